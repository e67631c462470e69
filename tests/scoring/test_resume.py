"""A scoring process killed with SIGKILL mid-run, then re-run, ends with exactly one row per
(document, model) and nothing missing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from scoring_docs import insert_documents

from datacomp.models.registry import resolve_model
from datacomp.scoring import ScoreConfig, score_corpus
from datacomp.store import open_store

N_DOCS = 150


def test_sigkill_mid_run_then_rerun_completes_exactly_once(tmp_path, tiny_lm_pair):
    db = tmp_path / "resume.duckdb"
    enc_dir, dec_dir = tiny_lm_pair
    with open_store(db) as store:
        ids = insert_documents(store, [f"line {i}: " + "the lazy dog sleeps " * (1 + i % 7) for i in range(N_DOCS)])
        for folder in tiny_lm_pair:
            resolve_model(store, folder)  # registered up front: the child's first writes are scores
        store.con.execute("CHECKPOINT")
    wal = Path(f"{db}.wal")
    command = [sys.executable, "-m", "datacomp", "score", "--corpus", "demo", "--encoder", str(enc_dir),
               "--decoder", str(dec_dir), "--window", "32", "--stride", "16", "--token-budget", "40",
               "--db", str(db)]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env={**os.environ, "DATACOMP_PROGRESS": "0", "OMP_NUM_THREADS": "1"})
    # DuckDB locks the file while the child writes, so watch its write-ahead log grow instead: every
    # commit appends to it (first the run row, then one transaction per batch); kill once it has grown
    # at least twice after it first appeared, i.e. some batches are committed.
    sizes = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and child.poll() is None and len(sizes) < 3:
        if wal.exists():
            sizes.add(wal.stat().st_size)
        time.sleep(0.005)
    assert child.poll() is None, f"the run ended before it could be killed: {child.stderr.read().decode()}"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL

    with open_store(db) as store:
        partial = store.con.execute("SELECT count(*) FROM scores").fetchone()[0]
        partial_gaps = store.con.execute("SELECT count(*) FROM gaps").fetchone()[0]
        assert 0 < partial < 2 * N_DOCS, "the kill must land mid-run"
        assert partial == 2 * partial_gaps  # a batch's scores and gaps land together or not at all
        assert store.con.execute("SELECT status FROM runs").fetchone()[0] == "running"  # killed, never closed

        summary = score_corpus(store, ScoreConfig(corpora=["demo"], encoder=str(enc_dir), decoder=str(dec_dir),
                                                  window=32, stride=16, token_budget=4096))
        assert summary.docs_skipped == partial_gaps and summary.docs_scored == N_DOCS - partial_gaps
        per_pair = store.con.execute(
            "SELECT doc_id, model_id, count(*) FROM scores GROUP BY ALL").fetchall()
        assert len(per_pair) == 2 * N_DOCS and all(n == 1 for _, _, n in per_pair)
        assert {d for d, _, _ in per_pair} == set(ids)
        assert store.con.execute("SELECT count(DISTINCT doc_id), count(*) FROM gaps").fetchone() == (N_DOCS, N_DOCS)
        assert store.con.execute(
            "SELECT count(*) FROM scores WHERE surprisal_mean IS NULL OR isnan(surprisal_mean)").fetchone()[0] == 0
