"""Progress lines when stderr is not a terminal: counts, info and ETA appear in the log."""

from __future__ import annotations

from datacomp.progress import progress_bar


def test_non_terminal_progress_prints_counts_info_and_eta(monkeypatch, capsys):
    monkeypatch.setenv("DATACOMP_PROGRESS", "1")
    monkeypatch.setenv("DATACOMP_PROGRESS_EVERY", "0")
    with progress_bar("scoring", total=4, unit="docs") as bar:
        bar.advance(1, tok_s=812.5)
        bar.advance(3, tok_s=900.0)
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("scoring: 1/4 docs (25%) tok_s=812.5 elapsed 0:00:00 ETA")
    assert lines[-1].startswith("scoring: 4/4 docs (100%) tok_s=900 elapsed")
    assert "ETA" not in lines[-1]


def test_progress_off_prints_nothing(monkeypatch, capsys):
    monkeypatch.setenv("DATACOMP_PROGRESS", "0")
    with progress_bar("x", total=2) as bar:
        bar.advance(2)
    assert capsys.readouterr().err == ""


def test_current_position_is_the_innermost_live_bars_count_floored(monkeypatch):
    from datacomp.progress import current_position

    monkeypatch.setenv("DATACOMP_PROGRESS", "0")
    assert current_position() is None
    with progress_bar("training", total=200, unit="steps") as outer:
        outer.advance(40)
        assert current_position() == "40/200 steps"
        with progress_bar("evaluate", total=None, unit="examples") as inner:
            inner.advance(2.5)
            assert current_position() == "2 examples"
        assert current_position() == "40/200 steps"
    assert current_position() is None


def test_heartbeat_fires_on_advance_at_most_once_per_interval(monkeypatch):
    from datacomp import progress

    monkeypatch.setenv("DATACOMP_PROGRESS", "0")
    clock = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    beats = []
    with progress.heartbeat(lambda: beats.append(clock[0]), every=60), progress_bar("x", total=9) as bar:
        bar.advance(1)                 # 0 s since the heartbeat started: none
        clock[0] += 61
        bar.advance(1)                 # 61 s: one
        clock[0] += 30
        bar.advance(1)                 # 30 s after it: none
        clock[0] += 31
        bar.advance(1)                 # 61 s after it: another
    clock[0] += 120
    with progress_bar("y", total=1) as bar:
        bar.advance(1)                 # the heartbeat's context has ended: none
    assert beats == [161.0, 222.0]
