"""``"package.module:attribute"`` entries, imported on first use: how registries (compressor methods, KV presses,
prompt compressors, pipeline library stages) name their members without importing torch to list them."""

from __future__ import annotations

import importlib
from typing import Any


def load_entry(entry: str) -> Any:
    """The attribute ``entry`` names ("package.module:attribute"), its module imported now."""
    module, _, attribute = entry.partition(":")
    return getattr(importlib.import_module(module), attribute)
