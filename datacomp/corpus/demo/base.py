"""What every demo domain provides: a description for the corpora table and its documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class Piece:
    """One demo document before ingestion: where it comes from, its text, extra fields for ``meta``."""

    locator: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)


class DomainUnavailable(Exception):
    """The domain's material is not on this machine; prepare skips it with this message as a warning."""


@dataclass(frozen=True)
class DemoDomain:
    corpus: str
    domain: str
    source: str
    license: str
    description: str
    gather: Callable[[Path], list[Piece]]  # cache dir -> every document, in a deterministic order
