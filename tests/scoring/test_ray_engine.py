"""`score --engine ray` on a local 2-worker Ray instance (one per session, tests/conftest.py): the rows of the in-process engine
to 1e-6, shards a killed driver left are imported and not scored again, an actor killed mid-run loses and
duplicates nothing, and a re-run adds nothing."""

from __future__ import annotations

import math
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest
from scoring_docs import insert_documents

from datacomp.models.registry import resolve_model
from datacomp.scoring import ScoreConfig, score_corpus
from datacomp.scoring.ray_engine import RayOptions, score_corpus_ray
from datacomp.store import open_store

N_DOCS = 150
SETTINGS = dict(corpora=["demo"], window=32, stride=16)
SCORE_KEY = ("doc_id", "model_id")
GAP_KEY = ("doc_id", "encoder_id", "decoder_id")


@pytest.fixture(scope="module")
def reference(tmp_path_factory, tiny_lm_pair):
    """A store with documents and models (``base``), and a copy scored by the in-process engine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("ray_scoring")
    enc, dec = (str(p) for p in tiny_lm_pair)
    base = folder / "base.duckdb"
    with open_store(base) as store:
        insert_documents(store, [f"line {i}: " + "the lazy dog sleeps " * (1 + i % 7) for i in range(N_DOCS)]
                         + ["", "a"])   # NULL rows travel too
        for model in (enc, dec):
            resolve_model(store, model)
    scored = folder / "in_process.duckdb"
    shutil.copy(base, scored)
    with open_store(scored) as store:
        score_corpus(store, ScoreConfig(**SETTINGS, encoder=enc, decoder=dec))
    torch.set_num_threads(threads)
    return {"base": base, "scored": scored, "config": ScoreConfig(**SETTINGS, encoder=enc, decoder=dec)}


def table(path, name):
    with open_store(path, read_only=True) as store:
        cursor = store.con.execute(f"SELECT * FROM {name} ORDER BY ALL")
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]


def assert_same_rows(path, reference_path):
    for name, key in (("scores", SCORE_KEY), ("gaps", GAP_KEY)):
        got, want = table(path, name), table(reference_path, name)
        assert len({tuple(r[k] for k in key) for r in got}) == len(got), f"duplicated {name} rows"
        by_key = {tuple(r[k] for k in key): r for r in want}
        assert set(by_key) == {tuple(r[k] for k in key) for r in got}, f"{name}: other keys"
        for row in got:
            other = by_key[tuple(row[k] for k in key)]
            for column, value in row.items():
                if column in ("run_id", "scored_at"):
                    continue
                if isinstance(value, float):
                    assert math.isclose(value, other[column], rel_tol=1e-6, abs_tol=1e-6), (name, column)
                else:
                    assert value == other[column], (name, column, value, other[column])


def test_ray_scoring_gives_the_in_process_rows_imports_what_a_killed_driver_left_and_a_rerun_adds_nothing(
        ray_local, reference, tmp_path):
    from datacomp.store.shards import shard_schema, shard_table

    db = tmp_path / "ray.duckdb"
    shutil.copy(reference["base"], db)
    # a driver killed earlier left one finished shard (20 documents' rows) and one cut short
    left = tmp_path / "ray.shards" / "score" / "score-killed"
    left.mkdir(parents=True)
    done = sorted({r["doc_id"] for r in table(reference["scored"], "gaps")})[:20]
    with open_store(db) as store:
        schema = shard_schema(store, ["scores", "gaps"])
    rows = {name: [r for r in table(reference["scored"], name) if r["doc_id"] in done] for name in ("scores", "gaps")}
    import pyarrow.parquet as pq

    pq.write_table(shard_table(rows, schema), left / "finished.parquet")
    (left / "cut.parquet").write_bytes((left / "finished.parquet").read_bytes()[:300])

    with open_store(db) as store:
        summary = score_corpus_ray(store, reference["config"], RayOptions(workers=2))
    assert summary.docs_selected == N_DOCS + 2 and summary.docs_skipped == 20
    assert summary.docs_scored == N_DOCS + 2 - 20 and summary.docs_null == 2
    (unreadable,) = [w for w in summary.warnings if "could not be read" in w]
    assert unreadable.startswith(f"shard {left / 'cut.parquet'} could not be read (")
    assert "Parquet magic bytes not found" in unreadable and unreadable.endswith("its rows will be made again")
    assert_same_rows(db, reference["scored"])
    assert not (tmp_path / "ray.shards").exists()   # imported shards are removed, the cut one too

    with open_store(db) as store:
        again = score_corpus_ray(store, reference["config"], RayOptions(workers=2))
        counts = store.con.execute("SELECT count(*) FROM scores").fetchone()[0]
    assert (again.docs_skipped, again.docs_scored) == (N_DOCS + 2, 0)
    assert counts == 2 * (N_DOCS + 2)
    assert_same_rows(db, reference["scored"])


def _actor_pids() -> set[int]:
    """Scoring actor processes below this test process (the Ray instance it started), by process title."""
    me, found = os.getpid(), set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().decode(errors="replace")
            if "ScoringActor" not in title:
                continue
            pid = int(entry.name)
            while pid > 1:   # walk up to this process
                pid = int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if pid == me:
                    found.add(int(entry.name))
                    break
        except (OSError, ValueError, IndexError):
            continue
    return found


def test_an_actor_killed_mid_run_is_restarted_by_ray_and_loses_and_duplicates_nothing(
        ray_local, reference, tmp_path):
    db = tmp_path / "killed.duckdb"
    shutil.copy(reference["base"], db)
    run_folder = tmp_path / "killed.shards" / "score"
    result: dict = {}

    def score():
        try:
            with open_store(db) as store:
                result["summary"] = score_corpus_ray(store, reference["config"], RayOptions(workers=2))
        except BaseException as error:  # reported by the main thread
            result["error"] = error

    thread = threading.Thread(target=score)
    thread.start()
    victim = None
    deadline = time.monotonic() + 240
    while thread.is_alive() and time.monotonic() < deadline:
        written = list(run_folder.rglob("*.parquet")) if run_folder.exists() else []
        pids = _actor_pids()
        if written and pids:   # blocks are done, so the actors are past loading and mid-run
            victim = min(pids)
            n_written = len(written)
            os.kill(victim, signal.SIGKILL)
            break
        time.sleep(0.02)
    assert victim is not None, f"no actor to kill before the run ended: {result}"
    thread.join(timeout=300)
    assert "error" not in result, result.get("error")
    # Ray retries the killed actor's batch (on its restarted process or on the other actor, whichever is free)
    assert n_written < 8, "the kill must land before the last of the 8 blocks"   # 4 blocks per worker
    assert not Path(f"/proc/{victim}").exists()
    summary = result["summary"]
    assert summary.docs_scored == N_DOCS + 2
    assert_same_rows(db, reference["scored"])


def test_ray_options_without_the_ray_engine_and_unknown_engines_are_errors(store, capsys):
    from cli_capture import run_main

    store.close()
    for flags, message in ((["--workers", "3"], "error: --workers: only with --engine ray"),
                           (["--address", "auto", "--gpus-per-worker", "1"],
                            "error: --address, --gpus-per-worker: only with --engine ray"),
                           (["--engine", "spark"], "error: --engine must be one of in-process, ray, got 'spark'")):
        code, _, err = run_main(capsys, "score", "--corpus", "demo", "--model", "m", "--db", str(store.path), *flags)
        assert (code, err) == (2, message), flags
