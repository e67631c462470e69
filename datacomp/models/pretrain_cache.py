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


def recipe_key(config, texts: dict[str, Any], init_from_id: str | None) -> str:
    """24 hex digits identifying what the pretraining run would learn from and how."""
    from datacomp.hashing import file_sha256
    from datacomp.store.runs import to_jsonable

    fields = {k: v for k, v in to_jsonable(config).items() if k not in NOT_IN_KEY}
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode())
    for domain in sorted(texts):
        for part in (texts[domain].train, texts[domain].validation):
            digest.update(f"\0{domain}\0{len(part)}".encode())
            for text in part:
                digest.update(hashlib.sha256(text.encode()).digest())
    digest.update(f"\0init:{init_from_id}".encode())
    if config.tokenizer and not init_from_id:
        digest.update(file_sha256(Path(config.tokenizer) / "tokenizer.json").encode())
    return digest.hexdigest()[:24]


def cached_folder(name: str, key: str) -> Path:
    from datacomp.models.gguf import cache_root

    return cache_root() / "pretrained" / f"{name}-{key}"


def load_cached(name: str, key: str, out: Path) -> dict[str, Any] | None:
    """Copy a cached model into ``out`` and return its saved train_info; None when nothing is cached."""
    folder = cached_folder(name, key)
    info_path = folder / INFO_FILE
    if not info_path.is_file() or not any(folder.glob("*.safetensors")):
        return None
    if out.resolve() != folder.resolve():
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(folder, out, ignore=shutil.ignore_patterns(INFO_FILE))
    return json.loads(info_path.read_text())


def save_cached(name: str, key: str, out: Path, train_info: dict[str, Any]) -> Path:
    """Keep a copy of ``out`` (weights + tokenizer) and its train_info in the cache; written to a temporary
    folder and renamed, so a crash never leaves a half-written entry that looks complete."""
    folder = cached_folder(name, key)
    partial = folder.with_name(folder.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    shutil.copytree(out, partial)
    (partial / INFO_FILE).write_text(json.dumps(train_info, sort_keys=True))
    if folder.exists():
        shutil.rmtree(folder)
    partial.rename(folder)
    return folder
