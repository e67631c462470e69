"""An empty listing says what to run to fill it; with --json it is an empty list."""

from __future__ import annotations

import json

import pytest
from cli_capture import run_main


@pytest.fixture
def empty_db(tmp_path):
    from datacomp.store import open_store

    db = tmp_path / "s.duckdb"
    open_store(db).close()
    return str(db)


@pytest.mark.parametrize("command, hint", [
    (["slice", "list"], "no slices yet: create one with datacomp slice create NAME --definition DEFINITION "
                        "(datacomp slice definitions lists them)"),
    (["corpora", "list"], "no corpora yet: ingest one with datacomp ingest PATH... --corpus NAME (or datacomp "
                          "corpora prepare for the demo corpora)"),
    (["models", "list"], "no models yet: register one with datacomp models add PATH (a folder, a .gguf file or "
                         "smollm2), or pretrain one with datacomp pretrain --model-name NAME --mixture DOMAIN=W,..."),
    (["store", "runs"], "no runs yet: ingest, score, train, evaluate, report and run each record one"),
    (["store", "results"], "no evaluations yet: run datacomp evaluate --compressor ID --slice SLICE"),
])
def test_empty_listing_says_what_to_run(capsys, empty_db, command, hint):
    code, out, err = run_main(capsys, *command, "--db", empty_db)
    assert (code, " ".join(out.split()), err) == (0, hint, "")
    code, out, _ = run_main(capsys, *command, "--db", empty_db, "--json")
    assert code == 0 and json.loads(out) == []


def test_a_listing_with_rows_is_a_table(capsys, tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "one document"}\n')
    db = str(tmp_path / "s.duckdb")
    assert run_main(capsys, "ingest", str(data), "--corpus", "web", "--db", db)[0] == 0
    code, out, _ = run_main(capsys, "corpora", "list", "--db", db)
    assert code == 0 and "web" in out and "no corpora yet" not in out
