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


def identity_holds(summary) -> bool:
    return summary.read == summary.ingested + summary.duplicates + summary.quarantined
