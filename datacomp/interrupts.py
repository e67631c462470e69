"""Ctrl-C and SIGTERM at the command line: stop where the work is, record it, say so, exit 128 + signal.

The CLI turns SIGINT and SIGTERM into ``Interrupted``. It is a BaseException, so no ``except Exception``
on the way up swallows it, and deliberately not a KeyboardInterrupt: typer (0.2x, non-standalone mode)
catches KeyboardInterrupt and *returns* 130 as the command's value, which made `datacomp score` exit 0
after Ctrl-C. ``record_run`` records either kind as status 'interrupted' and writes the finish row.

The exception carries where the work in flight was (the innermost progress bar's count), read when the
signal arrives, before the bar is torn down. A second signal while the first unwinds is ignored with a note
(the run's record is being written); a third ends the process at once.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

from datacomp.progress import current_position

CAUGHT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived; ``position`` is e.g. '105/3000 docs' (None when no progress bar was live)."""

    def __init__(self, signum: int, position: str | None = None):
        self.signum = signum
        self.position = position
        super().__init__(signum, position)    # the constructor's arguments: it pickles (Ray, multiprocessing)

    def __str__(self) -> str:
        return signal.Signals(self.signum).name + (f" at {self.position}" if self.position else "")

    @property
    def exit_code(self) -> int:
        """128 + the signal number, the shell's convention: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + self.signum


def is_interrupt(error: BaseException) -> bool:
    """An interrupt rather than a failure: a CLI signal, or Ctrl-C in a library session (KeyboardInterrupt)."""
    return isinstance(error, (Interrupted, KeyboardInterrupt))


@contextmanager
def signals_raise_interrupted() -> Iterator[None]:
    """While inside, SIGINT and SIGTERM raise Interrupted in the main thread (a signal ignored when the process
    started, as `nohup` or a background job arranges, stays ignored); the previous handlers come back after.
    Called from another thread (main() run by a test harness in a worker thread), it changes nothing: Python
    lets only the main thread set handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def handler(signum: int, frame) -> None:
        received.append(signum)
        if len(received) == 1:
            raise Interrupted(signum, current_position())
        if len(received) == 2:
            print("still stopping (writing the run's record); signal again to quit at once", file=sys.stderr,
                  flush=True)
            return
        os._exit(128 + signum)

    previous = {}
    for signum in CAUGHT_SIGNALS:
        if signal.getsignal(signum) is signal.SIG_IGN:
            continue
        previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
