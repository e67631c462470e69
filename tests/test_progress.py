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


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_after_a_resume_the_eta_comes_from_the_rate_of_this_process(monkeypatch, capsys):
    from datacomp.progress import LineBar

    monkeypatch.setenv("DATACOMP_PROGRESS_EVERY", "0")
    clock = FakeClock()
    bar = LineBar("training sac", total=100, unit="steps", done=60, clock=clock)
    bar.emit()   # nothing done here yet: no rate, no ETA
    clock.now += 20
    bar.advance(10)  # 10 steps in 20 s: 30 to go take 60 s (done/elapsed = 70/20 s would say 8 s)
    clock.now += 10
    bar.advance(5)   # 15 steps in 30 s: 25 to go take 50 s
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["training sac: 60/100 steps (60%) elapsed 0:00:00",
                     "training sac: 70/100 steps (70%) elapsed 0:00:20 ETA 0:01:00",
                     "training sac: 75/100 steps (75%) elapsed 0:00:30 ETA 0:00:50"]


def test_a_resumed_terminal_bar_starts_at_the_earlier_work_which_is_no_speed_sample(monkeypatch):
    import io

    from rich.console import Console

    import datacomp.progress as progress_module

    monkeypatch.setenv("DATACOMP_PROGRESS", "1")
    monkeypatch.setattr(progress_module, "Console", lambda file: Console(file=io.StringIO(), force_terminal=True))
    with progress_module.progress_bar("train", total=100, unit="steps", done=60) as bar:
        task = bar._progress.tasks[0]
        assert (task.completed, len(task._progress)) == (60, 0)  # rich's speed reads only the samples
        bar.advance(2)
        assert (task.completed, [sample.completed for sample in task._progress]) == (62, [2])


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
