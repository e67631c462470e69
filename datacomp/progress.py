"""Progress bars for long work: counts, rate and ETA, on stderr, quiet when not a terminal or in tests."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def progress_enabled() -> bool:
    """Off when DATACOMP_PROGRESS=0; rich itself degrades to periodic lines when stderr is no TTY."""
    return os.environ.get("DATACOMP_PROGRESS", "1") != "0"


@contextmanager
def progress_bar(description: str, total: float | None, unit: str = "") -> Iterator["Bar"]:
    """``with progress_bar("scoring", total=n_docs, unit="docs") as bar: bar.advance(1, loss=...)``."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
        disable=not progress_enabled(),
        transient=False,
    )
    with progress:
        task = progress.add_task(description, total=total, info="")
        yield Bar(progress, task)


class Bar:
    def __init__(self, progress: Progress, task: int):
        self._progress = progress
        self._task = task

    def advance(self, n: float = 1, **info: float | int | str) -> None:
        """Advance by ``n`` and show ``info`` (e.g. loss=2.31, tok_s=812) beside the bar."""
        text = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in info.items())
        self._progress.update(self._task, advance=n, info=text)

    def set_total(self, total: float | None) -> None:
        """Change the total once it is known (e.g. a time budget turned into a step count)."""
        self._progress.update(self._task, total=total)
