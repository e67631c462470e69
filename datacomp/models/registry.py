"""The models table: register a model folder once, then refer to it by id, name or path.

``model_id`` = name + 12 hex of the weights' SHA-256, so re-registering the same weights is a no-op and
retrained weights get a new id. ``tokenizer_id`` = 16 hex of the SHA-256 of the sorted vocabulary: two
models share a tokenizer exactly when their tokenizer ids are equal (what token-level gaps require).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from datacomp.errors import DatacompError
from datacomp.models.gguf import SHORTCUTS
from datacomp.store import Store


@dataclasses.dataclass
class ModelRecord:
    model_id: str
    name: str
    path: str
    revision: str | None = None
    n_params: int | None = None
    tokenizer_id: str | None = None
    vocab_size: int | None = None
    context_len: int | None = None
    architecture: str | None = None
    mixture: dict[str, float] | None = None
    train_info: dict[str, Any] | None = None
    source: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "ModelRecord":
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in row.items() if k in fields}
        for key in ("mixture", "train_info"):
            if isinstance(values.get(key), str):
                values[key] = json.loads(values[key])
        return cls(**values)


def weights_hash(folder: Path) -> str:
    files = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
    if not files:
        raise DatacompError(f"no weights (*.safetensors) in model folder {folder}")
    digest = hashlib.sha256()
    for path in files:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def tokenizer_hash(tokenizer) -> str:
    vocab = sorted(tokenizer.get_vocab().items())
    return hashlib.sha256(json.dumps(vocab).encode()).hexdigest()[:16]


def register_model(store: Store, path: str | Path, name: str | None = None, source: str = "folder",
                   mixture: dict[str, float] | None = None, train_info: dict[str, Any] | None = None,
                   trust_remote_code: bool = False) -> ModelRecord:
    """Read a model folder's config, tokenizer and weights hash and upsert it into ``models``."""
    from transformers import AutoConfig

    from datacomp.models.loading import load_tokenizer

    folder = Path(path).resolve()
    if not (folder / "config.json").is_file():
        raise DatacompError(f"{folder} is not a model folder (no config.json)")
    try:
        config = AutoConfig.from_pretrained(str(folder), trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as error:
        raise DatacompError(f"cannot read the config of model folder {folder}: {error}") from error
    tokenizer = load_tokenizer(folder, trust_remote_code=trust_remote_code)
    revision = weights_hash(folder)
    name = name or folder.name
    n_params = _count_params(folder)
    record = ModelRecord(
        model_id=f"{name}-{revision[:12]}", name=name, path=str(folder), revision=revision,
        n_params=n_params, tokenizer_id=tokenizer_hash(tokenizer), vocab_size=len(tokenizer),
        context_len=getattr(config, "max_position_embeddings", None),
        architecture=(config.architectures or [config.model_type])[0], mixture=mixture,
        train_info=train_info, source=source,
    )
    values = dataclasses.asdict(record)
    values["mixture"] = json.dumps(mixture) if mixture is not None else None
    values["train_info"] = json.dumps(train_info, default=str) if train_info is not None else None
    store.run("models/upsert", values)
    return record


def _count_params(folder: Path) -> int:
    from safetensors import safe_open

    total = 0
    for file in sorted(folder.glob("*.safetensors")):
        with safe_open(str(file), framework="pt") as handle:
            for key in handle.keys():
                shape = handle.get_slice(key).get_shape()
                count = 1
                for dim in shape:
                    count *= dim
                total += count
    return total


def resolve_model(store: Store, ref: str | Path) -> ModelRecord:
    """A registered model by id, name or path, or a ``models add`` shortcut (``smollm2``) by the name it
    registered; an unregistered model folder is registered first."""
    rows = store.rows("models/find", {"ref": str(ref)})
    if not rows and Path(ref).exists():
        rows = store.rows("models/find", {"ref": str(Path(ref).resolve())})
        if not rows:
            return register_model(store, ref)
    shortcut = SHORTCUTS.get(str(ref))
    if not rows and shortcut:
        rows = store.rows("models/find", {"ref": shortcut[1]})
    if not rows:
        known = list(dict.fromkeys(r["name"] for r in store.rows("models/list")))
        hint = (f"register it with `datacomp models add {ref}`" if shortcut else
                "register one with `datacomp models add PATH`")
        raise DatacompError(f"no model {str(ref)!r} in the store (known: {', '.join(known) or 'none'}); {hint}")
    return ModelRecord.from_row(rows[0])


def list_models(store: Store) -> list[ModelRecord]:
    return [ModelRecord.from_row(row) for row in store.rows("models/list")]
