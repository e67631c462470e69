"""``datacomp models add``: register a model folder, a GGUF file, or the ``smollm2`` shortcut."""

from __future__ import annotations

from pathlib import Path

from datacomp.errors import DatacompError
from datacomp.models.gguf import SHORTCUTS, dequantised_folder
from datacomp.models.registry import ModelRecord, register_model
from datacomp.store import Store


def add_model(store: Store, path: str | Path, name: str | None = None, trust_remote_code: bool = False,
              ) -> ModelRecord:
    """Register ``path``: a model folder as is, a ``.gguf`` file via its dequantised cache folder, or a
    shortcut name (``smollm2``) for a GGUF shipped in an installed package."""
    source = Path(path)
    if not source.exists() and str(path) in SHORTCUTS:
        locate, default = SHORTCUTS[str(path)]
        source, name = locate(), name or default
    if not source.exists():
        raise DatacompError(f"model path not found: {path} (a model folder, a .gguf file, or one of: "
                            f"{', '.join(SHORTCUTS)})")
    if source.is_file():
        if source.suffix.lower() != ".gguf":
            raise DatacompError(f"{source} is a file but not a .gguf checkpoint; pass a model folder instead")
        name = name or source.name[:-len(".gguf")].lower()
        folder = dequantised_folder(source, name=name)
        return register_model(store, folder, name, source="gguf",
                              train_info={"gguf_file": str(source.resolve())})
    return register_model(store, source, name, source="folder", trust_remote_code=trust_remote_code)
