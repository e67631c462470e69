"""`datacomp store ...` through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from cli_capture import run_main as _main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "datacomp", *args], capture_output=True, text=True, timeout=120)


def new_store(tmp_path):
    from datacomp.store import open_store

    db = tmp_path / "s.duckdb"
    open_store(db, parents=True).close()
    return db


def test_read_commands_refuse_a_missing_store_and_create_nothing(tmp_path):
    missing = tmp_path / "typo" / "s.duckdb"
    for command in (["store", "info"], ["store", "results"], ["store", "runs"], ["corpora", "list"],
                    ["slice", "list"], ["models", "list"], ["report", "--out", str(tmp_path / "r")]):
        result = run_cli(*command, "--db", str(missing))
        assert result.returncode == 2, (command, result.stderr)
        assert f"error: no store at {missing} (create one with datacomp ingest or datacomp run)" in \
            result.stderr.replace("\n", ""), command
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "typo").exists()


WRITER = """
import sys, time
from datacomp.store import open_store
store = open_store(sys.argv[1])
store.con.execute("INSERT INTO corpora (corpus, domain) VALUES ('held', 'literature')")
print("ready", flush=True)
time.sleep(60)
"""


def test_read_commands_work_while_another_process_holds_the_store(tmp_path):
    import os

    db = new_store(tmp_path)
    scratch = tmp_path / "tmp"     # where the snapshot copy goes: it must be gone after the command
    scratch.mkdir()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        result = subprocess.run([sys.executable, "-m", "datacomp", "store", "info", "--db", str(db), "--json"],
                                capture_output=True, text=True, timeout=120, env={**os.environ, "TMPDIR": str(scratch)})
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["tables"]["corpora"] == 1       # what the writer committed
        assert f"note: {db} is held by a running command" in result.stderr.replace("\n", "")
        listing = subprocess.run([sys.executable, "-m", "datacomp", "corpora", "list", "--db", str(db)],
                                 capture_output=True, text=True, timeout=120, env={**os.environ, "TMPDIR": str(scratch)})
        assert listing.returncode == 0 and "held" in listing.stdout
    finally:
        writer.kill()
        writer.wait()
    assert list(scratch.iterdir()) == []
    quiet = run_cli("store", "info", "--db", str(db), "--json")
    assert quiet.returncode == 0 and "note:" not in quiet.stderr             # no writer: the store itself


def test_store_info_json_counts_tables(tmp_path):
    db = new_store(tmp_path)
    result = run_cli("store", "info", "--db", str(db), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["tables"]["documents"] == 0
    assert info["schema_version"] >= 4


def test_export_error_is_one_clear_line_not_a_traceback(tmp_path):
    db = new_store(tmp_path)
    result = run_cli("store", "export", "nope", "--out", str(tmp_path / "x.parquet"), "--db", str(db))
    assert result.returncode == 2
    assert "error: no table 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_required_option_is_a_usage_error_not_a_traceback(tmp_path):
    result = run_cli("train", "--method", "sac", "--db", str(tmp_path / "s.duckdb"))
    assert result.returncode == 2
    assert "Missing option '--ratio'" in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_output_path_is_one_error_line(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = run_cli("store", "export", "documents", "--out", str(blocker / "x.parquet"),
                     "--db", str(new_store(tmp_path)))
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and str(blocker) in result.stderr
    assert "Traceback" not in result.stderr


def _evaluation(system, example, f1, nll, ratio=4.0, compressor="ae-4x"):
    return {"eval_id": "e1", "run_id": "r1", "system": system, "compressor_id": compressor,
            "method": "autoencoder" if system == compressor else system, "decoder_id": "dec", "task": "qa",
            "example_id": example, "doc_id": None, "eval_slice": "s", "ratio_target": ratio,
            "ratio_actual": ratio, "n_context_tokens": 64, "n_slots": 16, "memory_bytes": 1, "f1": f1,
            "em": float(f1 == 1.0), "bleu": None, "target_nll": nll, "compress_ms": 1.0, "decode_ms": 1.0,
            "prediction": "p", "reference": "r"}


def test_results_table_means_and_nll_reduction(tmp_path):
    from datacomp.store import open_store

    db = tmp_path / "s.duckdb"
    with open_store(db) as store:
        store.run("compressors/upsert", {
            "compressor_id": "ae-4x", "method": "autoencoder", "ratio": 4.0, "encoder_id": "enc",
            "decoder_id": "dec", "train_slice": "s", "checkpoint": "/c", "config": "{}",
            "train_info": json.dumps({"seconds": 12.7, "steps": 30}), "run_id": "r0",
            "decoder_tuned": False})
        for example, (f1, nll, none_nll) in enumerate([(1.0, 1.0, 4.0), (0.5, 3.0, 6.0)]):
            store.run("evaluation/insert", _evaluation("ae-4x", f"x{example}", f1, nll))
            store.run("evaluation/insert", _evaluation("none", f"x{example}", 0.0, none_nll))
            # the same none baseline again beside a second evaluation: each example still counts once
            store.run("evaluation/insert", {**_evaluation("none", f"x{example}", 0.0, none_nll), "eval_id": "e2"})
    result = run_cli("store", "results", "--db", str(db), "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["system"]: row for row in json.loads(result.stdout)}
    compressor, none = rows["ae-4x"], rows["none"]
    assert compressor["n"] == 2 and compressor["f1"] == 0.75 and compressor["em"] == 0.5
    assert compressor["target_nll"] == 2.0
    assert compressor["nll_reduction"] == ((1 - 1 / 4) + (1 - 3 / 6)) / 2
    assert (compressor["train_seconds"], compressor["train_steps"]) == (12.7, 30)
    assert none["n"] == 2 and none["target_nll"] == 5.0
    assert none["nll_reduction"] == 0.0 and none["ratio_target"] is None and none["train_seconds"] is None
    import os

    table = subprocess.run([sys.executable, "-m", "datacomp", "store", "results", "--db", str(db)],
                           capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert "62.5" in table.stdout and "13 s, 30 steps" in table.stdout   # NLL reduction % and training


def test_a_bug_is_one_internal_error_line_and_debug_shows_the_traceback(tmp_path, monkeypatch, capsys):
    import pytest

    from datacomp.cli import main
    from datacomp.store import db as store_db

    def broken(*args, **kwargs):
        raise ValueError("something impossible in x[/tmp] and [cpu]\nsecond line")

    db = new_store(tmp_path)
    monkeypatch.setattr(store_db.Store, "table_counts", broken)
    with pytest.raises(SystemExit) as exit_info:
        main(["store", "info", "--db", str(db)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.replace("\n", " ")
    assert "internal error: ValueError: something impossible in x[/tmp] and [cpu] (run again" in err
    assert "second line" not in err and "DATACOMP_DEBUG=1" in err
    monkeypatch.setenv("DATACOMP_DEBUG", "1")
    with pytest.raises(ValueError, match="something impossible"):
        main(["store", "info", "--db", str(db)])



def test_store_export_format_follows_the_extension_and_refuses_to_overwrite(tmp_path, capsys):
    import gzip

    import pyarrow.parquet as pq

    db = str(new_store(tmp_path))
    jsonl = tmp_path / "versions.jsonl"
    code, out, _ = _main(capsys, "store", "export", "schema_version", "-o", str(jsonl), "--db", db)
    assert code == 0 and "(jsonl)" in out
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]  # JSON lines, not Parquet bytes
    assert rows and {"version", "applied_at"} <= set(rows[0])
    code, _, err = _main(capsys, "store", "export", "schema_version", "-o", str(jsonl), "--db", db)
    assert code == 2 and f"error: {jsonl} already exists; pass --overwrite to replace it" in err
    code, _, _ = _main(capsys, "store", "export", "schema_version", "-o", str(jsonl), "--overwrite", "--db", db)
    assert code == 0
    assert _main(capsys, "store", "export", "schema_version", "-o", str(tmp_path / "v.parquet"), "--db", db)[0] == 0
    assert pq.read_table(tmp_path / "v.parquet").num_rows == len(rows)
    assert _main(capsys, "store", "export", "schema_version", "-o", str(tmp_path / "v.jsonl.gz"), "--db", db)[0] == 0
    assert len(gzip.open(tmp_path / "v.jsonl.gz", "rt").read().splitlines()) == len(rows)
    code, _, err = _main(capsys, "store", "export", "schema_version", "-o", str(tmp_path / "v.txt"), "--db", db)
    assert code == 2 and f"error: --out {tmp_path / 'v.txt'}: unknown format; use .parquet or .jsonl (or --format)" \
        in err and not (tmp_path / "v.txt").exists()
    code, _, err = _main(capsys, "store", "export", "schema_version", "-o", str(tmp_path / "w.jsonl"),
                         "--format", "parquet", "--db", db)
    assert code == 2 and "the extension says jsonl but --format is parquet" in err
    code, _, _ = _main(capsys, "store", "export", "schema_version", "-o", str(tmp_path / "v.out"),
                       "--format", "parquet", "--db", db)
    assert code == 0 and pq.read_table(tmp_path / "v.out").num_rows == len(rows)


def test_results_unknown_task_is_an_error_listing_the_evaluated_tasks(tmp_path, capsys):
    from datacomp.store import open_store

    db = tmp_path / "s.duckdb"
    with open_store(db) as store:
        store.run("evaluation/insert", _evaluation("ae-4x", "x0", 1.0, 1.0))
    code, _, err = _main(capsys, "store", "results", "--task", "nosuch", "--db", str(db))
    assert code == 2 and "error: unknown task 'nosuch'; tasks with evaluations: qa" in err
    code, out, _ = _main(capsys, "store", "results", "--task", "qa", "--db", str(db), "--json")
    assert code == 0 and [r["task"] for r in json.loads(out)] == ["qa"]
    empty = new_store(tmp_path / "other")
    code, _, err = _main(capsys, "store", "results", "--task", "qa", "--db", str(empty))
    assert code == 2 and "error: unknown task 'qa'; tasks with evaluations: none" in err


def test_version_and_short_help(capsys):
    from importlib.metadata import version

    code, out, _ = _main(capsys, "--version")
    assert code == 0 and out.strip() == f"datacomp {version('datacomp')}"
    code, out, _ = _main(capsys, "store", "info", "-h")
    assert code == 0 and "Usage:" in out and "--db" in out
