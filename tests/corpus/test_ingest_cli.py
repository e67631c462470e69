"""The CLI: --json summary, clean errors (exit 2, naming the path), corpora list."""

import json

import pytest

from corpus_helpers import write_jsonl
from datacomp.cli import main


def test_ingest_json_summary_and_corpora_list(tmp_path, capsys):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "one"}, {"text": "two"}, {"text": "one"}, {"text": 3}])
    db = str(tmp_path / "s.duckdb")
    main(["ingest", str(path), "--corpus", "c", "--domain", "prose", "--db", db, "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert {k: summary[k] for k in ("corpus", "read", "ingested", "duplicates", "quarantined", "reasons")} == {
        "corpus": "c", "read": 4, "ingested": 2, "duplicates": 1, "quarantined": 1,
        "reasons": {"non_string_field": 1}}
    main(["corpora", "list", "--db", db, "--json"])
    listed = json.loads(capsys.readouterr().out)
    assert [(r["corpus"], r["domain"], r["documents"], r["characters"], r["duplicates"]) for r in listed] == [
        ("c", "prose", 2, 6, 1)]


def test_ingest_table_output(tmp_path, capsys):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "one"}, {"bad": 1}])
    main(["ingest", str(path), "--corpus", "c", "--db", str(tmp_path / "s.duckdb")])
    out = capsys.readouterr().out
    assert "missing_field" in out and "quarantined" in out


def test_missing_path_exits_2_naming_it(tmp_path, capsys):
    missing = tmp_path / "nowhere.jsonl"
    with pytest.raises(SystemExit) as exit_info:
        main(["ingest", str(missing), "--corpus", "c", "--db", str(tmp_path / "s.duckdb")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"input not found: {missing}" in err.replace("\n", "")
    assert "Traceback" not in err
