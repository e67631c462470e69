"""Small builders for corpus tests: files with known good and bad records."""

from __future__ import annotations

import json
from pathlib import Path


def write_jsonl(path: Path, rows: list, raw_lines: list[bytes] | None = None) -> Path:
    """One JSON object per line for each of ``rows``, then ``raw_lines`` verbatim."""
    data = b"".join(json.dumps(r).encode() + b"\n" for r in rows)
    data += b"".join(line + b"\n" for line in raw_lines or [])
    path.write_bytes(data)
    return path


def counts(store) -> dict:
    return store.rows("corpus/counts")[0]


def identity_holds(summary, store, before: dict | None = None) -> bool:
    """Every record read is in exactly one place, counted from the store's tables (not from the summary's
    own arithmetic): a new document row, duplicate row or quarantine row. ``before``: the store's counts
    before this ingest (default: an empty store)."""
    before = before or {"documents": 0, "duplicates": 0, "quarantine": 0}
    added = {key: value - before[key] for key, value in counts(store).items()}
    return (added["documents"], added["duplicates"], added["quarantine"]) == (
        summary.ingested, summary.duplicates, summary.quarantined) and summary.read == sum(added.values())
