"""LoRA through peft, injected in place so the model keeps its class and forward signature."""

from __future__ import annotations

import torch

ATTENTION_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj")


def add_lora(model: torch.nn.Module, rank: int, alpha: int,
             target_modules: tuple[str, ...] = ATTENTION_PROJECTIONS) -> torch.nn.Module:
    """Freeze ``model`` and add trainable LoRA adapters (B initialised to zero, so the model's function is
    unchanged until training moves them) on ``target_modules``."""
    from peft import LoraConfig, inject_adapter_in_model

    for parameter in model.parameters():
        parameter.requires_grad_(False)
    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.0, target_modules=list(target_modules),
                        bias="none")
    model = inject_adapter_in_model(config, model)
    for name, parameter in model.named_parameters():
        parameter.requires_grad_("lora_" in name)
    return model


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
    return torch.nn.Parameter(mean + std * torch.randn(count, mean.shape[0]))
