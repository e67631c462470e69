"""`datacomp run` prints a summary, exits 2 with the file and line on a bad file or a failed stage."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_a_stage_whose_output_was_deleted_runs_again(tmp_path, capsys):
    """The issue's item 4 through the command line: an exported file deleted after the run is not 'unchanged'."""
    data = tmp_path / "docs.jsonl"
    data.write_text('{"text": "one"}\n{"text": "two"}\n')
    path = tmp_path / "p.toml"
    path.write_text(f'[[stage]]\nname = "docs"\ntype = "ingest"\ncorpus = "web"\npaths = ["{data}"]\n\n'
                    '[[stage]]\nname = "all"\ntype = "slice"\ndefinition = "corpus"\nparams = { corpora = ["web"] }\n\n'
                    '[[stage]]\nname = "out"\ntype = "export"\nslice = "@all"\n')
    db = str(tmp_path / "s.duckdb")
    code, out, _ = run(capsys, "run", str(path), "--db", db, "--json")
    exported = json.loads(out)[-1]["outputs"]["ref"]
    assert code == 0 and Path(exported).is_absolute() and Path(exported).suffix == ".jsonl"
    Path(exported).unlink()
    code, out, _ = run(capsys, "run", str(path), "--db", db, "--json")
    rows = {row["stage"]: row for row in json.loads(out)}
    assert code == 0 and rows["docs"]["status"] == rows["all"]["status"] == "skipped"
    assert (rows["out"]["status"], rows["out"]["reason"]) == ("ran", f"its output ref ({exported}) is gone")


def _export_pipeline(tmp_path, export_keys: str) -> Path:
    data = tmp_path / "docs.jsonl"
    data.write_text('{"text": "one"}\n{"text": "two"}\n')
    path = tmp_path / "p.toml"
    path.write_text(f'[[stage]]\nname = "docs"\ntype = "ingest"\ncorpus = "web"\npaths = ["{data}"]\n\n'
                    '[[stage]]\nname = "all"\ntype = "slice"\ndefinition = "corpus"\nparams = { corpora = ["web"] }\n\n'
                    f'[[stage]]\nname = "out"\ntype = "export"\nslice = "@all"\nformat = "hf"\n{export_keys}')
    return path


def test_an_export_stage_replaces_its_own_folder_but_never_a_users(tmp_path, capsys):
    """The export stage passes overwrite=True: its own earlier folder is replaced, a user's folder is refused."""
    path = _export_pipeline(tmp_path, "")
    db = str(tmp_path / "s.duckdb")
    code, out, _ = run(capsys, "run", str(path), "--db", db, "--json")
    exported = Path(json.loads(out)[-1]["outputs"]["ref"])
    assert code == 0 and (exported / ".datacomp-output").is_file()
    (exported / "stale.arrow").write_bytes(b"")
    code, out, _ = run(capsys, "run", str(path), "--db", db, "--json", "--force", "out")
    assert code == 0 and json.loads(out)[-1]["status"] == "ran" and not (exported / "stale.arrow").exists()

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "paper.tex").write_text("mine")
    path = _export_pipeline(tmp_path, f'out = "{mine}"\n')
    code, _, err = run(capsys, "run", str(path), "--db", db)
    assert code == 2 and f"failed: {mine} exists and was not written by datacomp export" in err
    assert [p.name for p in mine.iterdir()] == ["paper.tex"] and (mine / "paper.tex").read_text() == "mine"


def _listing(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*"))}


def test_a_dry_run_creates_nothing(tmp_path, capsys, monkeypatch):
    """Issue 18: `datacomp run pipelines/quickstart.toml --dry-run` created out/quickstart/datacomp.duckdb."""
    quickstart = Path(__file__).resolve().parents[2] / "pipelines" / "quickstart.toml"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATACOMP_DB", raising=False)
    before = _listing(tmp_path)
    code, out, _ = run(capsys, "run", str(quickstart), "--dry-run", "--json")
    assert code == 0 and {row["status"] for row in json.loads(out)} == {"would run"}
    assert _listing(tmp_path) == before == {}

    # on a store that exists: read, not written (no WAL, no output folder, the same bytes)
    path = _export_pipeline(tmp_path, "")
    db = tmp_path / "new" / "s.duckdb"        # a real run creates the store's folder
    code, out, _ = run(capsys, "run", str(path), "--db", str(db), "--json")
    assert code == 0 and db.is_file()
    before = _listing(tmp_path)
    stored = db.read_bytes()
    path.write_text(path.read_text().replace('format = "hf"', 'format = "parquet"'))
    code, out, _ = run(capsys, "run", str(path), "--db", str(db), "--dry-run", "--json")
    plan = {row["stage"]: row["status"] for row in json.loads(out)}
    assert code == 0 and plan == {"docs": "up to date", "all": "up to date", "out": "would run"}
    assert _listing(tmp_path) == {**before, "p.toml": path.stat().st_size} and db.read_bytes() == stored

    # on a store an older datacomp wrote (schema 10): planned from a migrated copy, the file left as it was
    from datacomp.store import Store

    older = tmp_path / "older.duckdb"
    Store(older, target_version=10).close()
    stored = older.read_bytes()
    code, out, err = run(capsys, "run", str(path), "--db", str(older), "--dry-run", "--json")
    assert code == 0, err
    assert {row["status"] for row in json.loads(out)} == {"would run"} and older.read_bytes() == stored
