"""Where the data folders datacomp ships are: ``queries/`` (every SQL statement) and ``reports/`` (the
report's HTML template and stylesheet).

They stay at the top of the repository (the product card lists them there). A built wheel (``pip install
.``, ``python -m build``) carries copies inside the package as ``datacomp/_data/<name>`` (setup.py's
build step adds them); a clone (an editable install, or PYTHONPATH) has none and reads the repository's.
"""

from __future__ import annotations

from pathlib import Path

from datacomp.errors import DatacompError

PACKAGE = Path(__file__).resolve().parent
BUNDLED = "_data"  # the folder inside the installed package that holds the copies (setup.py writes it)


def data_dir(name: str) -> Path:
    """The shipped folder ``name``: the installed package's copy, else the clone's top-level one."""
    candidates = (PACKAGE / BUNDLED / name, PACKAGE.parent / name)
    for folder in candidates:
        if folder.is_dir():
            return folder
    raise DatacompError(f"datacomp's {name}/ folder is missing (looked in {candidates[0]} and {candidates[1]}): "
                        "reinstall datacomp from its repository or a wheel built from it")
