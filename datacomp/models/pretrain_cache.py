"""Pretrain once, reuse everywhere: a content-addressed cache of pretrained reference models.

A copy-capable base model takes minutes to pretrain (the induction circuit forms after thousands of steps);
the studies each specialise it per mixture. With ``PretrainConfig.reuse_cached`` the first pipeline that
pretrains a recipe saves the model under ``$DATACOMP_CACHE/pretrained/<name>-<key>`` and every later one
(another study, a re-run in a fresh store) registers that folder's copy instead of training again.

The key is the recipe's identity: every config field that changes the weights (not ``name``, ``out``,
``threads`` or ``reuse_cached``), the SHA-256 of each domain's training and validation texts in the order
they are read, and where the weights or tokenizer come from (``init_from``'s model id, which hashes its
weights; a ``tokenizer`` folder's tokenizer.json hash). The same key means the same data and recipe; with
``steps`` (not ``minutes``) and the same thread count the weights are byte-identical too.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

INFO_FILE = "datacomp_pretrain.json"  # train_info saved beside the weights
NOT_IN_KEY = ("name", "out", "threads", "reuse_cached")
RECIPE_VERSION = 1  # bump when the training code changes what a config learns (sampler, schedule, rows)


def recipe_key(config, texts: dict[str, Any], init_weights: str | None, total_steps: int | None) -> str:
    """24 hex digits identifying what the pretraining run would learn from and how: the config, the texts,
    the weights it starts from (``init_weights``: their SHA-256), the resolved step count, this recipe's
    version and the libraries that compute it."""
    import torch
    import transformers

    from datacomp.hashing import file_sha256
    from datacomp.store.runs import to_jsonable

    fields = {k: v for k, v in to_jsonable(config).items() if k not in NOT_IN_KEY}
    fields["_recipe"] = [RECIPE_VERSION, total_steps, torch.__version__, transformers.__version__]
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode())
    for domain in sorted(texts):
        for part in (texts[domain].train, texts[domain].validation):
            digest.update(f"\0{domain}\0{len(part)}".encode())
            for text in part:
                digest.update(hashlib.sha256(text.encode()).digest())
    digest.update(f"\0init:{init_weights}".encode())
    if config.tokenizer and not init_weights:
        digest.update(file_sha256(Path(config.tokenizer) / "tokenizer.json").encode())
    return digest.hexdigest()[:24]


def init_weights(base) -> str:
    """The SHA-256 of the weights ``--init-from`` will load: the registry record's (its model id hashes them),
    checked against the folder so a folder overwritten since it was registered is an error, not a wrong key."""
    from datacomp.errors import DatacompError
    from datacomp.models.registry import weights_hash

    actual = weights_hash(Path(base.path))
    if base.revision and actual != base.revision:
        raise DatacompError(f"--init-from {base.name}: the weights in {base.path} changed since it was registered "
                            f"as {base.model_id}; register them again with `datacomp models add {base.path}`")
    return actual


def cached_folder(name: str, key: str) -> Path:
    from datacomp.models.gguf import cache_root

    return cache_root() / "pretrained" / f"{name}-{key}"


def load_cached(name: str, key: str, out: Path) -> dict[str, Any] | None:
    """Copy a cached model's files into ``out`` (replacing its weights, keeping anything else there) and return
    its saved train_info; None when nothing is cached."""
    folder = cached_folder(name, key)
    info_path = folder / INFO_FILE
    if not info_path.is_file() or not any(folder.glob("*.safetensors")):
        return None
    if out.resolve() != folder.resolve():
        out.mkdir(parents=True, exist_ok=True)
        for stale in out.glob("*.safetensors"):
            stale.unlink()
        for path in folder.iterdir():
            if path.name != INFO_FILE and path.is_file():
                shutil.copy2(path, out / path.name)
    return json.loads(info_path.read_text())


def save_cached(name: str, key: str, out: Path, train_info: dict[str, Any]) -> Path:
    """Keep a copy of ``out`` (weights + tokenizer) and its train_info in the cache. Written to a folder of
    this process's own and renamed: a crash never leaves a half-written entry that looks complete, and when
    two runs of one recipe finish together the first rename wins and the other's copy is dropped."""
    import os

    folder = cached_folder(name, key)
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    if partial.exists():
        shutil.rmtree(partial)
    shutil.copytree(out, partial)
    (partial / INFO_FILE).write_text(json.dumps(train_info, sort_keys=True))
    try:
        partial.rename(folder)
    except OSError:   # another run of the same recipe saved it first: keep theirs
        shutil.rmtree(partial, ignore_errors=True)
    return folder
