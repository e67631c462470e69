"""The "@stage[.key]" references inside a stage's config: read by the file check (file.py), the library
stages' early checks (library.py) and the runner, which substitutes them; below all three."""

from __future__ import annotations

import dataclasses
from typing import Any

from datacomp.pipeline.typed import REFERENCE as _REFERENCE


def references(value: Any) -> list[tuple[str, str | None]]:
    """(stage, output key) of every "@stage[.key]" string inside ``value``."""
    found: list[tuple[str, str | None]] = []
    if isinstance(value, str) and (match := _REFERENCE.match(value)):
        found.append((match.group(1), match.group(2)))
    elif isinstance(value, dict):
        for item in value.values():
            found += references(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            found += references(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            found += references(getattr(value, field.name))
    return found
