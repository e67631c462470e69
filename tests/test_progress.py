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
