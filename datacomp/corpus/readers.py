"""Readers: one function per source format, each yielding ``RawRecord`` or ``Rejected`` items.

Readers only deal with the container (bytes, lines, rows, files); what a record's text field must look
like is checked afterwards, the same way for every format (``validate.py``). Locators:
``file:line`` (1-based) for jsonl and csv, ``file#row`` (0-based) for parquet and datasets, the file itself
for a whole-file problem (which counts as one record read and quarantined).

Formats by name: ``.jsonl``/``.ndjson`` (optionally ``.gz``), ``.csv`` (optionally ``.gz``), ``.parquet``,
``.txt``/``.md`` (one document per file), a folder (walked recursively in sorted order, hidden names
skipped), a folder written by ``datasets``' ``save_to_disk``, and ``hf:NAME[:SPLIT]`` for the hub.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import sys
import zlib
from pathlib import Path
from typing import Any, Iterator

from datacomp.corpus import quarantine as q
from datacomp.corpus.records import RawRecord, Rejected
from datacomp.errors import DatacompError, json_error_text

Item = RawRecord | Rejected

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet",)
TEXT_SUFFIXES = (".txt", ".md")
HUB_PREFIX = "hf:"
READ_BATCH_ROWS = 1024  # rows per Arrow batch when reading parquet / datasets: bounded memory

_SURROGATE = re.compile("[\udc80-\udcff]")  # what surrogateescape leaves where bytes were not UTF-8
_GZIP_ERRORS = (OSError, EOFError, zlib.error)


def _has_suffix(path: Path, suffixes: tuple[str, ...]) -> bool:
    return path.name.lower().endswith(suffixes)


def is_saved_dataset(path: Path) -> bool:
    """A folder written by ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk``."""
    return path.is_dir() and ((path / "state.json").is_file() or (path / "dataset_dict.json").is_file())


def check_input(spec: str) -> None:
    """Fail early, naming the input, for a path that does not exist or a hub dataset while offline."""
    if spec.startswith(HUB_PREFIX):
        name = spec[len(HUB_PREFIX):].split(":")[0]
        if not name:
            raise DatacompError(f"{spec!r}: expected hf:NAME[:SPLIT], e.g. hf:imdb:train")
        for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
            if os.environ.get(var, "").lower() in ("1", "true", "yes", "on"):
                raise DatacompError(
                    f"cannot load Hugging Face dataset {name!r} from the hub: {var} is set (offline). "
                    "Save it with datasets' save_to_disk on a machine with network and ingest that folder")
        return
    if not Path(spec).exists():
        raise DatacompError(f"input not found: {spec}")


def iter_input(spec: str) -> Iterator[Item]:
    """Every item of one command-line input (a file, a folder, a saved dataset or hf:NAME)."""
    if spec.startswith(HUB_PREFIX):
        yield from read_hub_dataset(spec)
        return
    path = Path(spec)
    if is_saved_dataset(path):
        yield from read_saved_dataset(path)
    elif path.is_dir():
        yield from read_folder(path)
    else:
        yield from read_file(path)


def read_file(path: Path) -> Iterator[Item]:
    """Dispatch one file by its name."""
    if _has_suffix(path, JSONL_SUFFIXES):
        yield from read_jsonl(path)
    elif _has_suffix(path, CSV_SUFFIXES):
        yield from read_csv(path)
    elif _has_suffix(path, PARQUET_SUFFIXES):
        yield from read_parquet(path)
    elif _has_suffix(path, TEXT_SUFFIXES):
        yield from read_text_file(path)
    else:
        known = ", ".join(JSONL_SUFFIXES + CSV_SUFFIXES + PARQUET_SUFFIXES + TEXT_SUFFIXES)
        yield Rejected(str(path), str(path), q.UNSUPPORTED_FORMAT,
                       f"no reader for {path.name!r}; supported: {known}, folders, saved datasets")


def read_folder(folder: Path) -> Iterator[Item]:
    """All files below ``folder`` in sorted order; names starting with '.' (e.g. .git) are skipped."""
    errors: list[OSError] = []
    seen_dirs: set[str] = set()
    # Symlinked folders are followed like symlinked files are read; a link back up the tree is reported.
    for root, dirs, files in os.walk(folder, onerror=errors.append, followlinks=True):
        root_path = Path(root)
        real = os.path.realpath(root)
        if real in seen_dirs:
            dirs[:] = []
            yield Rejected(str(root_path), str(root_path), q.UNREADABLE_FILE,
                           f"folder already read through another path ({real}): a symlink loop, not read twice")
            continue
        seen_dirs.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for d in list(dirs):
            if is_saved_dataset(root_path / d):
                dirs.remove(d)
                yield from read_saved_dataset(root_path / d)
        for name in sorted(files):
            if not name.startswith("."):
                yield from read_file(root_path / name)
    for error in errors:
        where = error.filename or str(folder)
        yield Rejected(str(where), str(where), q.UNREADABLE_FILE, f"cannot list folder: {error.strerror or error}")


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def read_jsonl(path: Path) -> Iterator[Item]:
    """One JSON object per line; lines are decoded one by one, so a bad byte costs only its line.
    Blank (whitespace-only) lines separate nothing and are not records."""
    name = str(path)
    line_no = 0
    try:
        with _open_binary(path) as handle:
            for line_no, raw in enumerate(handle, start=1):
                locator = f"{name}:{line_no}"
                if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    yield Rejected(name, locator, q.INVALID_UTF8,
                                   f"byte {error.start} of the line is not UTF-8 ({error.reason})",
                                   q.excerpt(raw.decode("utf-8", errors="replace")))
                    continue
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as error:
                    yield Rejected(name, locator, q.INVALID_JSON, json_error_text(error),
                                   q.excerpt(line))
                    continue
                except RecursionError:
                    yield Rejected(name, locator, q.INVALID_JSON, "nested too deeply to parse", q.excerpt(line))
                    continue
                try:  # \ud800-style escapes are valid JSON but no UTF-8 text: the store could not hold them
                    json.dumps(value, ensure_ascii=False).encode("utf-8")
                except UnicodeEncodeError as error:
                    yield Rejected(name, locator, q.INVALID_UTF8,
                                   f"a \\u escape decodes to a lone surrogate ({error.object[error.start]!r}), "
                                   "which is not valid Unicode text", q.excerpt(line))
                    continue
                if not isinstance(value, dict):
                    yield Rejected(name, locator, q.INVALID_JSON,
                                   f"expected a JSON object, got {type(value).__name__}", q.excerpt(line))
                    continue
                yield RawRecord(name, locator, value)
    except _GZIP_ERRORS as error:
        where = f"{name}:{line_no + 1}" if line_no else name
        yield Rejected(name, where, q.UNREADABLE_FILE, f"cannot read: {error}")


def read_csv(path: Path) -> Iterator[Item]:
    """A header row then one record per row (quoted fields may span lines; the locator is the first line).
    Cells are strings by nature of the format, so a csv has no column type to check."""
    name = str(path)
    # Let records reach the too_long check instead of csv's own 128 KiB field limit.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    line_no = 0
    try:
        if path.name.lower().endswith(".gz"):
            handle = gzip.open(path, "rt", encoding="utf-8", errors="surrogateescape", newline="")
        else:
            handle = open(path, encoding="utf-8", errors="surrogateescape", newline="")
        with handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                return
            if header and header[0].startswith("\ufeff"):
                header[0] = header[0][1:]
            line_no = reader.line_num
            for row in reader:
                start, line_no = line_no + 1, reader.line_num
                if not row:
                    continue
                locator = f"{name}:{start}"
                raw_line = ",".join(row)
                if any(_SURROGATE.search(cell) for cell in row):
                    yield Rejected(name, locator, q.INVALID_UTF8, "the row holds bytes that are not UTF-8",
                                   q.excerpt(_SURROGATE.sub("\ufffd", raw_line)))
                    continue
                fields: dict[str, Any] = dict(zip(header, row))
                if len(row) > len(header):
                    fields["_extra_cells"] = row[len(header):]
                yield RawRecord(name, locator, fields)
    except csv.Error as error:
        yield Rejected(name, f"{name}:{line_no + 1}", q.UNREADABLE_FILE, f"malformed csv: {error}")
    except _GZIP_ERRORS as error:
        where = f"{name}:{line_no + 1}" if line_no else name
        yield Rejected(name, where, q.UNREADABLE_FILE, f"cannot read: {error}")


def read_parquet(path: Path) -> Iterator[Item]:
    """Rows of a parquet file, read in Arrow batches; column types are checked per value downstream."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = str(path)
    row = 0
    try:
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=READ_BATCH_ROWS):
            for fields in batch.to_pylist():
                yield RawRecord(name, f"{name}#{row}", fields)
                row += 1
    except (OSError, pa.ArrowException) as error:
        where = f"{name}#{row}" if row else name
        yield Rejected(name, where, q.UNREADABLE_FILE, f"cannot read parquet: {error}")


def read_text_file(path: Path) -> Iterator[Item]:
    """The whole file is one document; a file that is not UTF-8 is quarantined whole."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        yield Rejected(name, name, q.UNREADABLE_FILE, f"cannot read: {error.strerror or error}")
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        yield Rejected(name, name, q.INVALID_UTF8, f"byte {error.start} of the file is not UTF-8 ({error.reason})",
                       q.excerpt(data[:200].decode("utf-8", errors="replace")))
        return
    yield RawRecord(name, name, {"text": text, "path": name})


def _dataset_rows(dataset, name: str, split: str | None) -> Iterator[Item]:
    label = f"{name}[{split}]" if split else name
    row = 0
    try:
        for batch in dataset.iter(batch_size=READ_BATCH_ROWS):
            columns = list(batch)
            n = len(batch[columns[0]]) if columns else 0
            for i in range(n):
                fields = {column: batch[column][i] for column in columns}
                if split:
                    fields.setdefault("split", split)
                yield RawRecord(name, f"{label}#{row}", fields)
                row += 1
    except Exception as error:  # datasets/arrow raise many types for damaged files
        yield Rejected(name, f"{label}#{row}", q.UNREADABLE_FILE, f"cannot read dataset: {error}")


def _iter_dataset(loaded, name: str) -> Iterator[Item]:
    from datasets import DatasetDict

    if isinstance(loaded, DatasetDict):
        for split in sorted(loaded):
            yield from _dataset_rows(loaded[split], name, split)
    else:
        yield from _dataset_rows(loaded, name, None)


def read_saved_dataset(path: Path) -> Iterator[Item]:
    """A ``Dataset`` / ``DatasetDict`` saved with ``save_to_disk``; splits are read in sorted order."""
    import datasets

    name = str(path)
    try:
        loaded = datasets.load_from_disk(name)
    except Exception as error:  # a damaged folder: one unreadable record, the other inputs go on
        yield Rejected(name, name, q.UNREADABLE_FILE, f"cannot load dataset: {error}")
        return
    yield from _iter_dataset(loaded, name)


def read_hub_dataset(spec: str) -> Iterator[Item]:
    """``hf:NAME[:SPLIT]`` through ``datasets.load_dataset`` (needs network; see ``check_input``)."""
    import datasets

    check_input(spec)
    name, _, split = spec[len(HUB_PREFIX):].partition(":")
    try:
        loaded = datasets.load_dataset(name, split=split or None)
    except Exception as error:
        raise DatacompError(f"cannot load Hugging Face dataset {name!r} from the hub: {error}") from error
    yield from _iter_dataset(loaded, spec)
