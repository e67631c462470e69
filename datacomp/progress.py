"""Progress bars for long work: counts, rate and ETA on stderr.

On a terminal this is a live rich bar. When stderr is not a terminal (CI logs, pipes, `make quickstart
> log`), a live bar would print nothing until the end, so the same information is written as one plain
line every ``DATACOMP_PROGRESS_EVERY`` seconds (default 15) and once at the end. DATACOMP_PROGRESS=0
turns both off (the tests do).

Two readers besides the user: ``current_position`` (the innermost live bar's count, which an interrupt
reports as where the work stopped) and ``heartbeat`` listeners (record_run's, which stamp the run's row so
a run whose process died shows as such), called from ``advance`` at most once per listener interval.
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


_live_bars: list["Bar | LineBar"] = []         # innermost last
_heartbeats: list["_Heartbeat"] = []


def current_position() -> str | None:
    """'105/3000 docs' for the innermost live bar (counts floored: what is certainly done), None when none."""
    if not _live_bars:
        return None
    bar = _live_bars[-1]
    done, total = bar.position()
    count = f"{int(done)}" + (f"/{int(total)}" if total else "")
    return f"{count} {bar.unit}".rstrip()


class _Heartbeat:
    def __init__(self, beat: Callable[[], None], every: float):
        self.beat, self.every, self.last = beat, every, time.monotonic()

    def maybe_beat(self) -> None:
        if time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            self.beat()


@contextmanager
def heartbeat(beat: Callable[[], None], every: float) -> Iterator[None]:
    """While inside, progress on any bar calls ``beat()`` at most once every ``every`` seconds."""
    entry = _Heartbeat(beat, every)
    _heartbeats.append(entry)
    try:
        yield
    finally:
        _heartbeats.remove(entry)


def _advanced() -> None:
    for entry in list(_heartbeats):
        entry.maybe_beat()


@contextmanager
def _live(bar: "Bar | LineBar") -> Iterator[None]:
    _live_bars.append(bar)
    try:
        yield
    finally:
        _live_bars.remove(bar)


@contextmanager
def progress_bar(description: str, total: float | None, unit: str = "", done: float = 0) -> Iterator["Bar"]:
    """``with progress_bar("scoring", total=n_docs, unit="docs") as bar: bar.advance(1, loss=...)``.

    ``done``: work finished before this process (a resumed run). It counts towards the total but not
    towards the rate, so the ETA comes from the speed of the work this process does."""
    console = Console(file=sys.stderr)
    if progress_enabled() and not console.is_terminal:
        bar = LineBar(description, total, unit, done)
        try:
            with _live(bar):
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
        bar = Bar(progress, task, unit)
        with _live(bar):
            yield bar


def _info_text(info: dict[str, float | int | str]) -> str:
    return "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in info.items())


class Bar:
    def __init__(self, progress: Progress, task: int, unit: str = ""):
        self._progress = progress
        self._task = task
        self.unit = unit

    def advance(self, n: float = 1, **info: float | int | str) -> None:
        """Advance by ``n`` and show ``info`` (e.g. loss=2.31, tok_s=812) beside the bar."""
        self._progress.update(self._task, advance=n, info=_info_text(info))
        _advanced()

    def position(self) -> tuple[float, float | None]:
        task = next(t for t in self._progress.tasks if t.id == self._task)
        return task.completed, task.total

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
        _advanced()

    def position(self) -> tuple[float, float | None]:
        return self.done, self.total

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
