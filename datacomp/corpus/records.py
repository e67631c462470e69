"""What readers yield: a raw record (a dict of fields, not yet validated) or a rejection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RawRecord:
    """One record as read: ``fields`` still holds the text field, whatever its type."""

    source: str    # the file (or dataset) it came from
    locator: str   # file:line, file#row, or the file itself
    fields: dict[str, Any]
    domain: str | None = None  # a domain the input's layout gives (--domain-from-subfolder); a field may override


@dataclass(frozen=True)
class Rejected:
    """A record (or a whole file) that cannot be used, with a reason code from ``quarantine``."""

    source: str
    locator: str
    reason: str
    detail: str
    excerpt: str = ""
