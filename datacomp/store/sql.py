"""SQL lives in queries/; this module finds it and reads it by name."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from datacomp.errors import DatacompError
from datacomp.resources import data_dir


def queries_dir() -> Path:
    """The queries/ folder: $DATACOMP_QUERIES, else the one datacomp ships (resources.data_dir)."""
    override = os.environ.get("DATACOMP_QUERIES")
    if override:
        return Path(override)
    return data_dir("queries")


@functools.cache
def sql(name: str) -> str:
    """The text of queries/<name>.sql, e.g. ``sql("store/table_counts")``."""
    path = queries_dir() / f"{name}.sql"
    if not path.is_file():
        raise DatacompError(f"SQL file not found: {path}")
    return path.read_text(encoding="utf-8")
