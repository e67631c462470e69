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


def test_at_80_columns_slice_list_and_store_runs_keep_rows_on_a_line_and_json_on_lines_of_its_own(tmp_path):
    import os
    import subprocess
    import sys

    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"text": f"document {i} " * (i + 1)}) + "\n" for i in range(6)) + "oops\n")
    db = str(tmp_path / "s.duckdb")
    env = {**os.environ, "COLUMNS": "80"}

    def cli(*argv):
        result = subprocess.run([sys.executable, "-m", "datacomp", *argv, "--db", db], capture_output=True,
                                text=True, timeout=120, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    cli("ingest", str(data), "--corpus", "web")
    cli("slice", "create", "long_ones", "--definition", "length_range", "-p", "min=20", "-p", "corpus=web")
    runs = json.loads(cli("store", "runs", "--json"))
    slices = json.loads(cli("slice", "list", "--json"))
    for out, rows, key, details in [(cli("store", "runs"), runs, "run_id", ("counts",)),
                                    (cli("slice", "list"), slices, "slice_id", ("params",))]:
        lines = [line.rstrip() for line in out.splitlines()]
        assert max(map(len, lines)) <= 80
        for row in rows:
            [at] = [i for i, line in enumerate(lines) if line.startswith(row[key] + " ")]
            head = lines[at].split()
            assert head[:2] == [row[key], row["status"] if key == "run_id" else row["kind"]]
            for column in details:   # the JSON, whole, on indented lines under its row
                block = [lines[at + 1]]
                for line in lines[at + 2:]:
                    if not line.startswith("    ") or line.lstrip().split(":")[0] in details + ("error",):
                        break
                    block.append(line)
                text = " ".join(part.strip() for part in block)
                expected = row[column] if isinstance(row[column], str) else json.dumps(row[column])
                assert text == f"{column}: {json.dumps(json.loads(expected))}"
