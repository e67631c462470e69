"""Method name -> compressor class, and saving/loading a trained compressor as a folder.

``REGISTRY`` holds each method as "module:Class" (or the class itself), imported on first use, so the CLI
can list the methods without importing torch. A new method is its file plus one line here.

A saved compressor is ``compressor.json`` (method, encoder and decoder paths, config) plus
``trainable.safetensors`` (only the parameters training changes: LoRA, memory/anchor/mode tokens,
adapters, projections). Loading rebuilds the method from the base model folders - which must still
exist - and loads the trainable parameters on top.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datacomp.entries import load_entry
from datacomp.errors import DatacompError, json_error_text
from datacomp.text_values import is_null_text, parse_text

if TYPE_CHECKING:
    from datacomp.compressors.base import Compressor, CompressorConfig

REGISTRY: dict[str, "str | type[Compressor]"] = {
    "autoencoder": "datacomp.compressors.autoencoder:Autoencoder",
    "sac": "datacomp.compressors.sac:SAC",
    "comi": "datacomp.compressors.comi:COMI",
    "meanpool": "datacomp.compressors.comi:MeanPool",
}

CONFIG_FILE = "compressor.json"
WEIGHTS_FILE = "trainable.safetensors"


def method_choices() -> str:
    """``autoencoder|sac|...``: the CLI's metavar for --method, from the registry."""
    return "|".join(REGISTRY)


def method_class(method: str) -> "type[Compressor]":
    if method not in REGISTRY:
        raise DatacompError(f"unknown compressor method {method!r}; choose one of {', '.join(REGISTRY)}")
    entry = REGISTRY[method]
    return load_entry(entry) if isinstance(entry, str) else entry


def make_config(method: str, config: "CompressorConfig | dict[str, Any] | None" = None,
                source: str = "config") -> "CompressorConfig":
    """The method's config dataclass from None (defaults), a dict (unknown keys are errors) or an instance."""
    from datacomp.compressors.base import CompressorConfig

    config_class = method_class(method).config_class
    if config is None:
        return config_class()
    if isinstance(config, config_class):
        return config
    if isinstance(config, CompressorConfig):
        config = dataclasses.asdict(config)
    known = {field.name for field in dataclasses.fields(config_class)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise DatacompError(f"{source}: unknown {method} config key {unknown[0]!r}; known keys: "
                            f"{', '.join(sorted(known))}")
    return config_class(**config)


# Keys that `datacomp train` sets from its own options (--ratio, --context-tokens, --seed).
TRAIN_OPTION_KEYS = {"ratio": "--ratio", "max_context_tokens": "--context-tokens",
                     "max_target_tokens": "--context-tokens", "seed": "--seed"}


def parse_method_config(method: str, pairs: list[str]) -> dict[str, Any]:
    """``["decoder_lora=true", "lora_rank=16"]`` -> method config keys typed by the config class's
    annotations (bool: true/false/1/0/yes/no; an Optional field also takes "none"). Unknown keys, keys that
    have their own train option, and bad values are errors naming the key."""
    import typing

    from datacomp.curation.params import parse_cli_params

    config_class = method_class(method).config_class
    hints = typing.get_type_hints(config_class)
    known = {field.name for field in dataclasses.fields(config_class)} - set(TRAIN_OPTION_KEYS)
    typed: dict[str, Any] = {}
    for key, text in parse_cli_params(pairs, option="--method-config").items():
        if key in TRAIN_OPTION_KEYS:
            raise DatacompError(f"--method-config {key}: set it with {TRAIN_OPTION_KEYS[key]}")
        if key not in known:
            raise DatacompError(f"--method-config {key}: unknown {method} config key; known keys: {', '.join(sorted(known))}")
        typed[key] = _typed_value(key, text, hints[key])
    return typed


def _typed_value(key: str, text: str, hint: Any) -> Any:
    """``text`` as the annotated type: int, float, bool or str, or ``X | None`` of one of them (text_values.py
    says which words are true, false and none)."""
    import types
    import typing

    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        optional = type(None) in args
        hint = next(arg for arg in args if arg is not type(None))
    kind = hint
    if optional and is_null_text(text):
        return None
    try:
        return parse_text(text, kind if kind in (bool, int, float) else str)
    except ValueError:
        raise DatacompError(f"--method-config {key}={text!r}: expected {getattr(kind, '__name__', kind)}"
                            + (" or none" if optional else "")) from None


def build_compressor(method: str, encoder_path: str | Path, decoder_path: str | Path,
                     config: "CompressorConfig | dict[str, Any] | None" = None, precision: str = "fp32"
                     ) -> "Compressor":
    """A fresh (untrained) compressor: the encoder and decoder are loaded here, once each, and handed to
    the method; its new parameters are seeded by ``config.seed``. ``precision`` (models/precision.py)
    places it on the device in that compute dtype (fp32 keeps the CPU results exact)."""
    import torch

    from datacomp.compressors.lora import load_lm
    from datacomp.models.precision import resolve_precision

    config = make_config(method, config)
    encoder, tokenizer = load_lm(str(encoder_path))
    decoder, _ = load_lm(str(decoder_path))
    cpu_state = torch.get_rng_state()
    torch.manual_seed(config.seed)
    try:
        compressor = method_class(method)(config, encoder, decoder, tokenizer, str(encoder_path), str(decoder_path))
    finally:
        torch.set_rng_state(cpu_state)
    return compressor.set_precision(resolve_precision(precision))


def save_compressor(compressor: "Compressor", folder: str | Path) -> Path:
    """Write compressor.json + trainable.safetensors into ``folder`` (created if needed)."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    description = {"method": compressor.method, "encoder_path": compressor.encoder_path,
                   "decoder_path": compressor.decoder_path, "config": dataclasses.asdict(compressor.config)}
    state = {name: tensor.contiguous() for name, tensor in compressor.trainable_state_dict().items()}
    save_file(state, str(folder / WEIGHTS_FILE))
    (folder / CONFIG_FILE).write_text(json.dumps(description, indent=2) + "\n")
    return folder


def read_description(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise DatacompError(f"no saved compressor in {folder}: {path} is missing")
    try:
        description = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DatacompError(f"{path}: invalid JSON: {json_error_text(error, with_line=True)}") from error
    for key in ("method", "encoder_path", "decoder_path", "config"):
        if key not in description:
            raise DatacompError(f"{path}: missing key {key!r}")
    return description


def load_compressor(folder: str | Path, precision: str = "fp32") -> "Compressor":
    """Rebuild a saved compressor (base models from their recorded paths) with its trained parameters."""
    from safetensors.torch import load_file

    folder = Path(folder)
    description = read_description(folder)
    config = make_config(description["method"], description["config"], source=str(folder / CONFIG_FILE))
    compressor = build_compressor(description["method"], description["encoder_path"],
                                  description["decoder_path"], config, precision=precision)
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise DatacompError(f"no trained parameters in {folder}: {weights} is missing")
    compressor.load_trainable_state_dict(load_file(str(weights)), source=str(weights))
    return compressor
