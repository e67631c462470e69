"""LoRA through peft, injected in place so the model keeps its class and forward signature."""

from __future__ import annotations

import contextlib

import torch

ATTENTION_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj")


def add_lora(model: torch.nn.Module, rank: int, alpha: int,
             target_modules: tuple[str, ...] | None = None, dropout: float = 0.0) -> torch.nn.Module:
    """Freeze ``model`` and add trainable LoRA adapters (B initialised to zero, so the model's function is
    unchanged until training moves them) on ``target_modules``; None = peft's default for the
    architecture (q_proj and v_proj for Llama), which is what ICAE and SAC train. Dropout defaults to 0
    (the official runs use 0.05): with it a batch's loss is no longer the mean of its rows' losses."""
    from peft import LoraConfig, inject_adapter_in_model

    for parameter in model.parameters():
        parameter.requires_grad_(False)
    targets = list(target_modules) if target_modules else _default_targets(model)
    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets, bias="none")
    model = inject_adapter_in_model(config, model)
    for name, parameter in model.named_parameters():
        parameter.requires_grad_("lora_" in name)
    return model


def _default_targets(model) -> list[str]:
    from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as DEFAULTS

    model_type = getattr(getattr(model, "config", None), "model_type", "llama")
    return list(DEFAULTS.get(model_type, ["q_proj", "v_proj"]))


def lora_layers(module: torch.nn.Module) -> list:
    from peft.tuners.tuners_utils import BaseTunerLayer

    return [layer for layer in module.modules() if isinstance(layer, BaseTunerLayer)]


def has_lora(module: torch.nn.Module) -> bool:
    return bool(lora_layers(module))


@contextlib.contextmanager
def adapters_enabled(module: torch.nn.Module, enabled: bool):
    """``module``'s LoRA adapters on or off for the block (off = the base model's function), then each
    layer back to its previous state and its parameters' requires_grad as they were (peft's switch also
    sets requires_grad); a module without adapters is unaffected."""
    layers = lora_layers(module)
    before = [(layer, layer.disable_adapters) for layer in layers]
    grads = [(p, p.requires_grad) for layer in layers for p in layer.parameters()]
    for layer in layers:
        layer.enable_adapters(enabled)
    try:
        yield module
    finally:
        for layer, disabled in before:
            layer.enable_adapters(not disabled)
        for parameter, flag in grads:
            parameter.requires_grad_(flag)


def load_lm(path: str):
    """A causal LM in float32 with SDPA attention (which honours the explicit 4D masks used here)."""
    from datacomp.models.loading import load_causal_lm

    model, tokenizer = load_causal_lm(path, dtype="float32", attn_implementation="sdpa")
    return model, tokenizer


def embedding_stats(model) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension mean and std of a model's input embedding table (to initialise new tokens)."""
    weight = model.get_input_embeddings().weight.detach()
    return weight.mean(dim=0), weight.std(dim=0)


def new_token_embeddings(model, count: int) -> torch.nn.Parameter:
    """``count`` new token embeddings drawn from N(mean, std) of the model's embedding table."""
    mean, std = embedding_stats(model)
    noise = torch.randn(count, mean.shape[0])  # drawn on the CPU (the seeded generator), then moved
    return torch.nn.Parameter(mean + std * noise.to(device=mean.device, dtype=mean.dtype))
