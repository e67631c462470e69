"""Writing a slice for other tools: its members in rank order with text, corpus, domain, length, and
every score and gap measured on them (nested lists, one entry per model and window).

Formats: ``jsonl`` (one JSON object per line; ``.jsonl.gz`` is compressed), ``parquet``, ``hf``
(``datasets.Dataset.save_to_disk``, a folder). The format follows the extension of ``out`` unless given;
an extension that contradicts it, or an existing ``out`` without ``overwrite``, is refused
(``datacomp.outputs.resolve_output``, the rule ``datacomp store export`` follows too). ``overwrite``
replaces a file of the same format, or an hf folder an earlier export wrote (its ``.datacomp-output``
marker, ``datacomp.ownership``), never a folder of the user's.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import pyarrow as pa

from datacomp.config_checks import choices
from datacomp.curation.slices import require_slice
from datacomp.outputs import resolve_output, write_table
from datacomp.ownership import claim_folder, mark_folder, only_names, replace_folder
from datacomp.store import Store
from datacomp.store.runs import record_run

FORMATS = ("jsonl", "parquet", "hf")
# What Dataset.save_to_disk writes: an hf export made before markers existed is recognised by it.
_HF_FOLDER = only_names("data-*.arrow", "dataset_info.json", "state.json")


@dataclasses.dataclass
class ExportConfig:
    slice: str
    out: Path
    format: Literal["jsonl", "parquet", "hf"] | None = None  # None: from the extension of `out`
    overwrite: bool = False                              # never clobber a file the user did not name twice

    def __post_init__(self) -> None:
        choices(self)


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
    out = Path(config.out)
    fmt = resolve_output(out, config.format, FORMATS, config.overwrite)
    if fmt == "hf":
        claim_folder(out, "export", legacy=_HF_FOLDER)   # before the run: a refusal records nothing
    with record_run(store, "export", dataclasses.replace(config, format=fmt)) as run:
        table = slice_rows(store, config.slice)
        if fmt == "hf":
            replace_folder(out, "export", legacy=_HF_FOLDER)
        elif out.exists():
            out.unlink()
        out.parent.mkdir(parents=True, exist_ok=True)
        with run.phase("write"):
            WRITERS[fmt](table, out)
        if fmt == "hf":
            mark_folder(out, "export")
        run.count("rows", table.num_rows)
    return ExportResult(config.slice, out, fmt, table.num_rows)


def write_jsonl(table: pa.Table, out: Path) -> None:
    write_table(table, out, "jsonl", progress="export")


def write_parquet(table: pa.Table, out: Path) -> None:
    write_table(table, out, "parquet")


def write_hf(table: pa.Table, out: Path) -> None:
    from datasets import Dataset

    Dataset(table).save_to_disk(str(out))


WRITERS = {"jsonl": write_jsonl, "parquet": write_parquet, "hf": write_hf}
