"""Output files every command writes the same way: the format follows the file's extension (or an
explicit ``--format`` that the extension does not contradict), and an existing file or folder is
replaced only with ``--overwrite``, and then only a file of the same format (``datacomp.ownership``; a
folder format's caller claims the folder).

``resolve_output`` is the one rule (``datacomp export`` and ``datacomp store export`` both use it);
``write_table`` writes an Arrow table as jsonl (gzip-compressed for ``.gz``) or parquet.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Sequence

import pyarrow as pa

from datacomp.errors import DatacompError

# Longest first: ".jsonl.gz" must win over a bare ".gz".
EXTENSIONS = {".jsonl.gz": "jsonl", ".ndjson.gz": "jsonl", ".jsonl": "jsonl", ".ndjson": "jsonl",
              ".parquet": "parquet"}
_PREFERRED = {"parquet": ".parquet", "jsonl": ".jsonl"}  # what the error messages suggest


def format_of(path: str | Path) -> str | None:
    """The format a file name says (``x.parquet`` -> parquet, ``x.jsonl.gz`` -> jsonl), or None."""
    name = Path(path).name.lower()
    for suffix, fmt in EXTENSIONS.items():
        if name.endswith(suffix):
            return fmt
    return None


def resolve_output(out: str | Path, format: str | None, formats: Sequence[str], overwrite: bool) -> str:
    """The format to write ``out`` in; refuses an unknown or contradicting extension and an existing
    ``out`` without ``overwrite``, and with it a file of another kind. ``format=None`` means: from the
    extension."""
    out = Path(out)
    said = format_of(out)
    if format is None:
        if said is None or said not in formats:
            suggested = " or ".join(_PREFERRED[f] for f in ("parquet", "jsonl") if f in formats)
            raise DatacompError(f"--out {out}: unknown format; use {suggested} (or --format)")
        format = said
    elif format not in formats:
        raise DatacompError(f"--format {format!r}: expected one of {', '.join(formats)}")
    elif said is not None and said != format:
        raise DatacompError(f"--out {out}: the extension says {said} but --format is {format}; "
                            "make them agree (or drop --format)")
    if format in _PREFERRED and out.exists():   # what may be replaced at all, before saying how to replace it
        from datacomp.ownership import check_replaceable_file

        check_replaceable_file(out, format)
    check_overwrite(out, overwrite)
    return format


def check_overwrite(out: str | Path, overwrite: bool) -> None:
    """The one overwrite rule: an existing file or folder is replaced only when asked."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise DatacompError(f"{out} already exists; pass --overwrite to replace it")


def write_table(table: pa.Table, out: Path, format: str, progress: str | None = None) -> None:
    """``table`` to ``out`` as jsonl (one object per line; gzip for a ``.gz`` name) or parquet."""
    if format == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, out)
    elif format == "jsonl":
        _write_jsonl(table, out, progress)
    else:
        raise DatacompError(f"cannot write format {format!r} here")


def _write_jsonl(table: pa.Table, out: Path, progress: str | None) -> None:
    from contextlib import nullcontext

    from datacomp.progress import progress_bar

    opener = gzip.open if out.name.lower().endswith(".gz") else open
    bar_context = progress_bar(progress, table.num_rows, unit="rows") if progress else nullcontext(None)
    with opener(out, "wt", encoding="utf-8") as handle, bar_context as bar:
        for batch in table.to_batches(max_chunksize=1000):
            for row in batch.to_pylist():
                handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            if bar is not None:
                bar.advance(batch.num_rows)
