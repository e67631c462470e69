"""Signals sent to a real `python -m datacomp` child mid-run: SIGINT and SIGTERM end it with one line saying
where it stopped, exit 130 / 143, and its run (and pipeline stage) recorded 'interrupted'; SIGKILL leaves a
row that `store runs` shows as 'died'. Scoring is the real case (its child takes seconds to import torch and
load the model); the other tests interrupt `ingest`, which starts in about a second."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading

import pytest
from cli_capture import run_main

from datacomp.models.registry import resolve_model
from datacomp.store import open_store

N_DOCS = 600          # about 30 s of scoring for the tiny model: every signal lands mid-run
PROGRESS = re.compile(rf"^scoring: (\d+)/{N_DOCS} docs")


def scoring_store(db, model_dir) -> None:
    """A store with N_DOCS short documents in corpus 'demo' and the model registered (the child's first
    writes are then its run row and scores)."""
    with open_store(db) as store:
        for i in range(N_DOCS):
            text = f"line {i}: " + "the lazy dog sleeps " * (1 + i % 5)
            store.run("scoring/fixture_document", {"doc_id": hashlib.sha256(text.encode()).hexdigest(),
                                                   "corpus": "demo", "domain": "web", "text": text,
                                                   "source": f"test:{i}"})
        resolve_model(store, model_dir)


def start_child(*args: str) -> subprocess.Popen:
    """`python -m datacomp ARGS` printing a progress line on every advance (stderr is a pipe, not a terminal)."""
    env = {**os.environ, "DATACOMP_PROGRESS": "1", "DATACOMP_PROGRESS_EVERY": "0", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "datacomp", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def signal_mid_run(child: subprocess.Popen, signum: int, progress: re.Pattern = PROGRESS) -> tuple[int, str, str]:
    """Wait for a ``progress`` line counting at least one item done, send ``signum``; returns (items the line
    counted, stdout, the rest of stderr)."""
    watchdog = threading.Timer(120, child.kill)    # a child that never reports progress fails, not hangs
    watchdog.start()
    try:
        seen = []
        for line in child.stderr:
            seen.append(line)
            match = progress.match(line)
            if match and int(match.group(1)) >= 1:
                break
        else:
            pytest.fail(f"the child ended before it made progress: {''.join(seen)}")
        child.send_signal(signum)
        out, rest = child.communicate(timeout=60)
    finally:
        watchdog.cancel()
    return int(match.group(1)), out, rest


def score_args(db, model_dir) -> list[str]:
    return ["score", "--corpus", "demo", "--model", str(model_dir), "--window", "32", "--stride", "16",
            "--token-budget", "40", "--db", str(db)]


def test_sigint_mid_score_says_where_it_stopped_and_records_the_run_interrupted(tmp_path, tiny_lm_dir):
    db = tmp_path / "s.duckdb"
    scoring_store(db, tiny_lm_dir)
    child = start_child(*score_args(db, tiny_lm_dir))
    seen_done, _, rest = signal_mid_run(child, signal.SIGINT)

    assert child.returncode == 130, rest
    at = int(only_interrupt_line(rest, rf"interrupted at (\d+)/{N_DOCS} docs; re-run the same command to resume"))
    assert seen_done <= at < N_DOCS
    with open_store(db, read_only=True) as store:
        run = store.con.execute("SELECT status, error, finished_at, pid, counts FROM runs WHERE stage = 'score'"
                                ).fetchall()
        scored = store.con.execute("SELECT count(*) FROM scores").fetchone()[0]
    assert len(run) == 1
    status, error, finished_at, pid, counts = run[0]
    assert (status, error, pid) == ("interrupted", f"Interrupted: SIGINT at {at}/{N_DOCS} docs", child.pid)
    assert finished_at is not None
    # the rows counted are stored (a batch written just before the signal may add), and the record counts them
    assert at <= json.loads(counts)["docs_scored"] <= scored < N_DOCS
    assert json.loads(counts)["docs_selected"] == N_DOCS


def only_interrupt_line(stderr: str, pattern: str) -> str:
    """The one 'interrupted' line, last on stderr and matching ``pattern``; returns its first group."""
    lines = stderr.splitlines()
    assert [line for line in lines if "interrupted" in line] == lines[-1:], stderr
    assert "Traceback" not in stderr
    matched = re.fullmatch(pattern, lines[-1])
    assert matched, lines[-1]
    return matched.group(1)


def big_jsonl(path, n: int = 400_000):
    """A jsonl file that takes `datacomp ingest` several seconds (~20k records/s) and no model to start."""
    path.write_text("".join(json.dumps({"text": f"record {i}: the lazy dog sleeps"}) + "\n" for i in range(n)))
    return path


INGESTED = re.compile(r"^ingest \w+: (\d+) records")


def test_sigterm_mid_ingest_exits_143_and_records_the_run_interrupted(tmp_path):
    db = tmp_path / "s.duckdb"
    child = start_child("ingest", str(big_jsonl(tmp_path / "big.jsonl")), "--corpus", "big", "--db", str(db))
    seen, _, rest = signal_mid_run(child, signal.SIGTERM, INGESTED)

    assert child.returncode == 143, rest
    at = int(only_interrupt_line(rest, r"interrupted by SIGTERM at (\d+) records; ingest does not resume: re-run "
                                       r"it to start again"))
    assert seen <= at < 400_000
    with open_store(db, read_only=True) as store:
        run = store.con.execute("SELECT status, error, finished_at FROM runs").fetchall()
        stored = store.con.execute("SELECT count(*) FROM documents").fetchone()[0]
    assert [row[:2] for row in run] == [("interrupted", f"Interrupted: SIGTERM at {at} records")]
    assert run[0][2] is not None
    assert stored in (at, at + 1000)  # each 1000-record batch is committed, then counted; one in flight is rolled back


def test_a_run_killed_outright_is_listed_as_died_not_running(tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    child = start_child("ingest", str(big_jsonl(tmp_path / "big.jsonl")), "--corpus", "big", "--db", str(db))
    signal_mid_run(child, signal.SIGKILL, INGESTED)
    assert child.returncode == -signal.SIGKILL

    with open_store(db, read_only=True) as store:
        assert store.con.execute("SELECT status FROM runs").fetchone()[0] == "running"   # never closed
    code, out, _ = run_main(capsys, "store", "runs", "--json", "--db", str(db))
    assert code == 0
    [row] = json.loads(out)
    assert (row["status"], row["pid"]) == ("died", child.pid)
    assert row["error"] == f"process {child.pid} is gone (killed or crashed before it could record an end)"
    code, out, _ = run_main(capsys, "store", "runs", "--db", str(db))
    assert "died" in out and "running" not in out


PIPELINE = """
[pipeline]
name = "interrupted"

[[stage]]
name = "first"
type = "ingest"
corpus = "big"
paths = ["{path}"]

[[stage]]
name = "second"
type = "ingest"
corpus = "again"
paths = ["{path}"]
"""


def test_sigint_mid_pipeline_marks_the_stage_and_both_runs_interrupted(tmp_path):
    db = tmp_path / "s.duckdb"
    path = tmp_path / "p.toml"
    path.write_text(PIPELINE.format(path=big_jsonl(tmp_path / "big.jsonl")))
    child = start_child("run", str(path), "--db", str(db), "--json")
    _, out, rest = signal_mid_run(child, signal.SIGINT, INGESTED)

    assert child.returncode == 130, rest
    assert re.fullmatch(r"interrupted at \d+ records; re-run the same command to resume", rest.splitlines()[-1]), rest
    assert [(r["stage"], r["status"], r["reason"]) for r in json.loads(out)][1:] == [
        ("second", "not run", "first interrupted")]
    assert json.loads(out)[0]["status"] == "interrupted"
    with open_store(db, read_only=True) as store:
        runs = dict(store.con.execute("SELECT stage, status FROM runs").fetchall())
        stage = store.con.execute("SELECT stage, status, error FROM pipeline_stages").fetchall()
    assert runs == {"pipeline": "interrupted", "ingest": "interrupted"}
    assert len(stage) == 1 and stage[0][:2] == ("first", "interrupted")
    assert re.fullmatch(r"Interrupted: SIGINT at \d+ records", stage[0][2])


def test_the_line_names_a_command_that_does_not_resume_and_the_signal_unless_it_is_sigint():
    from datacomp.cli import interrupted_line
    from datacomp.interrupts import Interrupted

    assert interrupted_line(Interrupted(signal.SIGINT, "40/200 steps"), ["pretrain", "--steps", "200"]) == \
        "interrupted at 40/200 steps; pretrain does not resume: re-run it to start again"
    assert interrupted_line(Interrupted(signal.SIGTERM), ["models", "copy-test", "ref"]) == \
        "interrupted by SIGTERM; models copy-test does not resume: re-run it to start again"
    assert interrupted_line(Interrupted(signal.SIGINT, "3/9 examples"), ["evaluate", "--compressor", "c"]) == \
        "interrupted at 3/9 examples; re-run the same command to resume"
