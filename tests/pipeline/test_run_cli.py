"""`datacomp run` prints a summary, exits 2 with the file and line on a bad file or a failed stage."""

from __future__ import annotations

import json

from cli_capture import run_main as run



PIPELINE = """
[pipeline]
name = "cli"

[[stage]]
name = "first"
type = "fake"

[[stage]]
name = "second"
type = "fake"
fail = {fail}
"""


def test_run_summary_and_rerun(tmp_path, capsys, calls):
    path = tmp_path / "cli.toml"
    path.write_text(PIPELINE.format(fail="false"))
    db = str(tmp_path / "db.duckdb")
    code, out, _ = run(capsys, "run", str(path), "--db", db)
    assert code == 0 and "2 ran, 0 skipped" in out and "first" in out
    code, out, _ = run(capsys, "run", str(path), "--db", db, "--json")
    assert code == 0 and [r["status"] for r in json.loads(out)] == ["skipped", "skipped"]
    code, out, _ = run(capsys, "run", str(path), "--db", db, "--json", "--force", "second")
    assert [r["status"] for r in json.loads(out)] == ["skipped", "ran"]


def test_run_failure_and_bad_file_exit_2(tmp_path, capsys, calls):
    path = tmp_path / "cli.toml"
    path.write_text(PIPELINE.format(fail="true"))
    code, out, err = run(capsys, "run", str(path), "--db", str(tmp_path / "db.duckdb"))
    assert code == 2 and "failed" in out
    assert f"{path}:9: stage 'second' (fake) failed: the fake stage was told to fail" in err
    path.write_text(PIPELINE.format(fail="1"))
    code, out, err = run(capsys, "run", str(path), "--db", str(tmp_path / "db.duckdb"))
    assert code == 2 and f"{path}:12: stage 'second': key 'fail': expected bool, got 1" in err
    assert "Traceback" not in err
