"""Writing a slice for other tools: its members in rank order with text, corpus, domain, length, and
every score and gap measured on them (nested lists, one entry per model and window).

Formats: ``jsonl`` (one JSON object per line), ``parquet``, ``hf`` (``datasets.Dataset.save_to_disk``).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Literal

import pyarrow as pa

from datacomp.curation.slices import require_slice
from datacomp.errors import DatacompError
from datacomp.store import Store
from datacomp.store.runs import record_run

FORMATS = ("jsonl", "parquet", "hf")


@dataclasses.dataclass
class ExportConfig:
    slice: str
    out: Path
    format: Literal["jsonl", "parquet", "hf"] = "jsonl"   # jsonl: readable by anything, line by line
    overwrite: bool = False                              # never clobber a file the user did not name twice


@dataclasses.dataclass
class ExportResult:
    slice: str
    out: Path
    format: str
    n_rows: int


def slice_rows(store: Store, name: str) -> pa.Table:
    """The export table of slice ``name`` (see queries/curation/export_rows.sql)."""
    require_slice(store, name)
    return store.con.sql(_sql("curation/export_rows"), params={"name": name}).to_arrow_table()


def _sql(name: str) -> str:
    from datacomp.store.sql import sql

    return sql(name)


def export_slice(store: Store, config: ExportConfig) -> ExportResult:
    if config.format not in FORMATS:
        raise DatacompError(f"--format {config.format!r}: expected one of {', '.join(FORMATS)}")
    out = Path(config.out)
    if out.exists() and not config.overwrite:
        raise DatacompError(f"{out} already exists; pass --overwrite to replace it")
    with record_run(store, "export", config) as run:
        table = slice_rows(store, config.slice)
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        out.parent.mkdir(parents=True, exist_ok=True)
        with run.phase("write"):
            WRITERS[config.format](table, out)
        run.count("rows", table.num_rows)
    return ExportResult(config.slice, out, config.format, table.num_rows)


def write_jsonl(table: pa.Table, out: Path) -> None:
    from datacomp.progress import progress_bar

    with open(out, "w", encoding="utf-8") as handle, progress_bar("export", table.num_rows, unit="docs") as bar:
        for batch in table.to_batches(max_chunksize=1000):
            for row in batch.to_pylist():
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            bar.advance(batch.num_rows)


def write_parquet(table: pa.Table, out: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, out)


def write_hf(table: pa.Table, out: Path) -> None:
    from datasets import Dataset

    Dataset(table).save_to_disk(str(out))


WRITERS = {"jsonl": write_jsonl, "parquet": write_parquet, "hf": write_hf}
