"""Progress bars for long work: counts, rate and ETA on stderr.

On a terminal this is a live rich bar. When stderr is not a terminal (CI logs, pipes, `make quickstart
> log`), a live bar would print nothing until the end, so the same information is written as one plain
line every ``DATACOMP_PROGRESS_EVERY`` seconds (default 15) and once at the end. DATACOMP_PROGRESS=0
turns both off (the tests do).
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator

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
    return os.environ.get("DATACOMP_PROGRESS", "1") != "0"


@contextmanager
def progress_bar(description: str, total: float | None, unit: str = "", done: float = 0) -> Iterator["Bar"]:
    """``with progress_bar("scoring", total=n_docs, unit="docs") as bar: bar.advance(1, loss=...)``.

    ``done``: work finished before this process (a resumed run). It counts towards the total but not
    towards the rate, so the ETA comes from the speed of the work this process does."""
    console = Console(file=sys.stderr)
    if progress_enabled() and not console.is_terminal:
        bar = LineBar(description, total, unit, done)
        try:
            yield bar
        finally:
            bar.emit(final=True)
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=not progress_enabled(),
        transient=False,
    )
    with progress:
        # completed= is no progress sample: rich's speed (and so its ETA) counts only what advance() adds
        task = progress.add_task(description, total=total, completed=done, info="")
        yield Bar(progress, task)


def _info_text(info: dict[str, float | int | str]) -> str:
    return "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in info.items())


class Bar:
    def __init__(self, progress: Progress, task: int):
        self._progress = progress
        self._task = task

    def advance(self, n: float = 1, **info: float | int | str) -> None:
        """Advance by ``n`` and show ``info`` (e.g. loss=2.31, tok_s=812) beside the bar."""
        self._progress.update(self._task, advance=n, info=_info_text(info))

    def set_total(self, total: float | None) -> None:
        """Change the expected total (e.g. a step estimate under a time budget)."""
        self._progress.update(self._task, total=total)


class LineBar:
    """The non-terminal stand-in: ``desc: 120/300 steps (40%) loss=2.1 elapsed 0:01:10 ETA 0:01:45``."""

    def __init__(self, description: str, total: float | None, unit: str, done: float = 0,
                 clock: Callable[[], float] = time.monotonic):
        self.description, self.total, self.unit = description, total, unit
        self.done = self.resumed_at = float(done)
        self.info = ""
        self.clock = clock
        self.start = self.last = clock()
        self.every = float(os.environ.get("DATACOMP_PROGRESS_EVERY", "15"))

    def advance(self, n: float = 1, **info: float | int | str) -> None:
        self.done += n
        if info:
            self.info = _info_text(info)
        if self.clock() - self.last >= self.every:
            self.emit()

    def set_total(self, total: float | None) -> None:
        self.total = total

    def emit(self, final: bool = False) -> None:
        self.last = now = self.clock()
        elapsed = now - self.start
        count = f"{self.done:g}" + (f"/{self.total:g}" if self.total else "")
        parts = [f"{self.description}: {count} {self.unit}".rstrip()]
        if self.total:
            parts.append(f"({100 * self.done / self.total:.0f}%)")
        if self.info:
            parts.append(self.info)
        parts.append(f"elapsed {_clock(elapsed)}")
        done_here = self.done - self.resumed_at  # the rate is this process's: a resumed run's steps took no time
        if self.total and done_here > 0 and not final:
            parts.append(f"ETA {_clock(elapsed * (self.total - self.done) / done_here)}")
        print(" ".join(parts), file=sys.stderr, flush=True)


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
