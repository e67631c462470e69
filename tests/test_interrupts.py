"""SIGINT / SIGTERM inside signals_raise_interrupted: an Interrupted carrying the live bar's count, 128 + signal
as the exit code; handlers restored afterwards, an ignored signal left ignored."""

from __future__ import annotations

import os
import signal

import pytest

from datacomp.interrupts import Interrupted, is_interrupt, signals_raise_interrupted
from datacomp.progress import progress_bar


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_raises_interrupted_with_the_live_bars_count(signum, code):
    before = signal.getsignal(signum)
    with pytest.raises(Interrupted) as caught:
        with signals_raise_interrupted(), progress_bar("scoring", total=10, unit="docs") as bar:
            bar.advance(3.5)
            os.kill(os.getpid(), signum)
            bar.advance(1)   # not reached: the handler raises at the next bytecode
    assert (caught.value.position, caught.value.exit_code) == ("3/10 docs", code)
    assert str(caught.value) == f"{signum.name} at 3/10 docs"
    assert signal.getsignal(signum) is before


def test_without_a_live_bar_there_is_no_position():
    with pytest.raises(Interrupted) as caught, signals_raise_interrupted():
        os.kill(os.getpid(), signal.SIGTERM)
    assert caught.value.position is None and str(caught.value) == "SIGTERM"


def test_a_signal_ignored_at_start_stays_ignored():
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with signals_raise_interrupted():
            os.kill(os.getpid(), signal.SIGTERM)   # would raise if the handler had been installed
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_keyboard_interrupt_counts_as_an_interrupt_and_an_error_does_not():
    assert is_interrupt(KeyboardInterrupt()) and is_interrupt(Interrupted(signal.SIGINT))
    assert not is_interrupt(ValueError("x")) and not is_interrupt(SystemExit(1))


def test_interrupted_survives_pickling():
    import pickle

    again = pickle.loads(pickle.dumps(Interrupted(signal.SIGTERM, "3/10 docs")))
    assert (again.signum, again.position, str(again), again.exit_code) == (signal.SIGTERM, "3/10 docs",
                                                                           "SIGTERM at 3/10 docs", 143)
