"""Load any Hugging Face causal LM and its tokenizer from a local folder (or a hub name, with network).

Never ``trust_remote_code`` unless the caller asks; weights are read from safetensors when the folder has
them. ``dtype`` is the precision the model runs in (recorded on every score row).
"""

from __future__ import annotations

from pathlib import Path

from datacomp.errors import DatacompError

DTYPES = ("float32", "bfloat16", "float16")


def torch_dtype(name: str):
    import torch

    if name not in DTYPES:
        raise DatacompError(f"unknown dtype {name!r}; choose one of {', '.join(DTYPES)}")
    return getattr(torch, name)


def load_tokenizer(path: str | Path, trust_remote_code: bool = False):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(path), trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as error:
        raise DatacompError(f"cannot load a tokenizer from {path}: {error}") from error


def load_causal_lm(path: str | Path, dtype: str = "float32", attn_implementation: str | None = None,
                   trust_remote_code: bool = False):
    """(model, tokenizer) from a model folder, in eval mode on the CPU (or the first GPU if present)."""
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # our own progress bars say what is loading; HF's per-tensor bar is noise
    kwargs = {"dtype": torch_dtype(dtype), "trust_remote_code": trust_remote_code}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    try:
        model = AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    except (OSError, ValueError) as error:
        raise DatacompError(f"cannot load a causal LM from {path}: {error}") from error
    if torch.cuda.is_available():
        model = model.to("cuda")
    model.eval()
    return model, load_tokenizer(path, trust_remote_code=trust_remote_code)
