"""Replacing only what datacomp wrote.

Every folder datacomp writes as an output (an ``export --format hf`` dataset, a report, a compressor, a
pretrained model, a dequantised GGUF model) carries a marker file, ``.datacomp-output``: JSON naming the
command that wrote it and when. Before a command writes into or replaces an existing folder it asks
``claim_folder``: a folder without that command's marker is refused with one line naming it, so
``--overwrite`` never deletes a folder of the user's (it once replaced the folder a corpus was ingested from
with a dataset). An empty folder is always free, and each caller may recognise its own output written before
markers existed (``legacy``).

A file output (jsonl, parquet) is replaced only by a file of its own kind (``check_replaceable_file``):
never a folder, and never a file whose first bytes are not that format's. The user named the file and said
``--overwrite``; the check catches the slip of naming the wrong thing.
"""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from datacomp.errors import DatacompError

MARKER = ".datacomp-output"
_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"


def mark_folder(folder: str | Path, command: str) -> None:
    """Sign ``folder`` as the output of ``command`` (after it is written: a crash leaves it unsigned)."""
    from datacomp.version import __version__

    stamp = {"written_by": "datacomp", "command": command, "version": __version__,
             "written_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    (Path(folder) / MARKER).write_text(json.dumps(stamp) + "\n", encoding="utf-8")


def folder_command(folder: str | Path) -> str | None:
    """The command named by ``folder``'s marker, or None (no marker, or one that is not datacomp's)."""
    marker = Path(folder) / MARKER
    try:
        stamp = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp.get("command") if isinstance(stamp, dict) and stamp.get("written_by") == "datacomp" else None


def claim_folder(folder: str | Path, command: str, legacy: Callable[[Path], bool] | None = None) -> None:
    """Refuse, in one line naming ``folder``, to let ``command`` write into or replace a folder that is not
    its own: free are a missing or empty folder, one carrying ``command``'s marker, and one ``legacy`` says
    is ``command``'s output from before markers."""
    folder = Path(folder)
    if not folder.exists() and not folder.is_symlink():
        return
    if folder.is_symlink() or not folder.is_dir():
        raise DatacompError(f"{folder} exists and is {'a link' if folder.is_symlink() else 'a file'}, not a "
                            f"folder datacomp {command} wrote; choose another path or move it away")
    owner = folder_command(folder)
    if owner == command or (owner is None and (not any(folder.iterdir()) or (legacy and legacy(folder)))):
        return
    why = f"its {MARKER} says datacomp {owner}" if owner else f"it has no {MARKER} marker"
    raise DatacompError(f"{folder} exists and was not written by datacomp {command} ({why}); datacomp replaces "
                        "only its own outputs: choose another path or move it away")


def take_folder(folder: str | Path, command: str, legacy: Callable[[Path], bool] | None = None) -> Path:
    """``claim_folder``, then create and sign ``folder`` before ``command`` writes into it over many steps (a
    training run's checkpoints): a run resumed after a crash finds the folder its own."""
    claim_folder(folder, command, legacy)
    Path(folder).mkdir(parents=True, exist_ok=True)
    mark_folder(folder, command)
    return Path(folder)


def replace_folder(folder: str | Path, command: str, legacy: Callable[[Path], bool] | None = None) -> None:
    """Delete ``folder`` for a new output of ``command``, after ``claim_folder`` allows it."""
    claim_folder(folder, command, legacy)
    if Path(folder).is_dir():
        shutil.rmtree(folder)


def only_names(*patterns: str) -> Callable[[Path], bool]:
    """A ``legacy`` test: every entry of the folder matches one of ``patterns`` (glob patterns of names)."""
    from fnmatch import fnmatch

    return lambda folder: all(any(fnmatch(entry.name, p) for p in patterns) for entry in folder.iterdir())


def check_replaceable_file(out: str | Path, format: str) -> None:
    """Refuse to replace ``out`` with a ``format`` file unless it is a file of that format: parquet's magic
    bytes, gzip's for a ``.gz`` jsonl, a first character "{" (or an empty file) for jsonl."""
    out = Path(out)
    if out.is_dir():
        raise DatacompError(f"{out} is a folder; a {format} output replaces only a {format} file, never a folder")
    if out.stat().st_size == 0 or _looks_like(out, format):
        return
    raise DatacompError(f"{out} is not a {format} file; --overwrite replaces only an earlier {format} output: "
                        "choose another path or move it away")


def _looks_like(path: Path, format: str) -> bool:
    with path.open("rb") as handle:
        head = handle.read(4)
    if format == "parquet":
        return head == _PARQUET_MAGIC
    if path.name.lower().endswith(".gz"):
        if head[:2] != _GZIP_MAGIC:
            return False
        opener = gzip.open
    else:
        opener = open
    try:   # datacomp's jsonl starts with a JSON object: its first character is "{" (a row may be megabytes long)
        with opener(path, "rt", encoding="utf-8") as handle:
            first = handle.read(1)
        return first == "{"
    except (OSError, ValueError):   # not gzip, not UTF-8
        return False
