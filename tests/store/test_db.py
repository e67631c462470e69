"""The store: schema versions, migrations, transactions, export, runs."""

from __future__ import annotations

import json

import duckdb
import pyarrow.parquet as pq
import pytest

from datacomp.errors import DatacompError
from datacomp.store import SCHEMA_VERSION, Store, open_store
from datacomp.store.db import migrations
from datacomp.store.runs import config_hash, record_run


def test_new_store_is_at_latest_version_with_every_table(store):
    assert store.schema_version == SCHEMA_VERSION == len(migrations())
    for table in ("documents", "quarantine", "models", "runs", "scores", "gaps", "slices", "evaluations"):
        assert table in store.table_names()


def test_older_store_is_migrated_on_open(tmp_path):
    path = tmp_path / "old.duckdb"
    old = Store(path, target_version=1)
    assert old.schema_version == 1
    assert "scores" not in old.table_names()
    old.con.execute("INSERT INTO corpora (corpus) VALUES ('kept')")
    old.close()
    with open_store(path) as migrated:
        assert migrated.schema_version == SCHEMA_VERSION
        assert "scores" in migrated.table_names()
        assert migrated.con.execute("SELECT corpus FROM corpora").fetchall() == [("kept",)]
        versions = [row[0] for row in migrated.con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()]
        assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_store_from_newer_datacomp_is_refused_with_reason(tmp_path):
    path = tmp_path / "future.duckdb"
    open_store(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version VALUES (999, current_timestamp)")
    con.close()
    with pytest.raises(DatacompError, match=r"schema version 999.*upgrade datacomp"):
        open_store(path)


def test_foreign_duckdb_file_is_refused(tmp_path):
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE something (x INTEGER)")
    con.close()
    with pytest.raises(DatacompError, match="not a datacomp store"):
        open_store(path)


def test_read_only_open_of_missing_file_names_it(tmp_path):
    with pytest.raises(DatacompError, match="store not found: .*missing.duckdb"):
        open_store(tmp_path / "missing.duckdb", read_only=True)


def test_a_new_store_needs_its_folder_unless_parents(tmp_path):
    missing = tmp_path / "a" / "b" / "s.duckdb"
    with pytest.raises(DatacompError, match=f"^cannot create store {missing}: no folder {missing.parent} "):
        Store(missing)
    assert not (tmp_path / "a").exists()
    with open_store(missing, parents=True) as store:
        assert store.schema_version == SCHEMA_VERSION
    with open_store(missing) as store:        # an existing store in an existing folder opens as before
        assert store.schema_version == SCHEMA_VERSION


def test_transaction_rolls_back_on_error(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as con:
            con.execute("INSERT INTO corpora (corpus) VALUES ('a')")
            raise RuntimeError("boom")
    assert store.table_counts()["corpora"] == 0


def test_export_table_to_parquet_has_the_rows(store, tmp_path):
    store.con.execute("INSERT INTO corpora (corpus, domain) VALUES ('x', 'code'), ('y', 'literature')")
    n = store.export_table("corpora", tmp_path / "corpora.parquet")
    table = pq.read_table(tmp_path / "corpora.parquet")
    assert n == 2 == table.num_rows
    assert sorted(table.column("corpus").to_pylist()) == ["x", "y"]


def test_export_unknown_table_lists_the_real_ones(store, tmp_path):
    with pytest.raises(DatacompError, match=r"no table 'nope'.*documents"):
        store.export_table("nope", tmp_path / "x.parquet")


def test_record_run_stores_config_seed_environment_timings_counts(store):
    config = {"b": 2, "a": [1, "x"]}
    with record_run(store, "demo", config, seed=7) as run:
        with run.phase("work"):
            run.count("docs", 3)
            run.count("docs", 2)
    row = store.rows("runs/list", {"limit": 5})[0]
    assert row["stage"] == "demo" and row["status"] == "finished" and row["seed"] == 7
    assert row["config_hash"] == config_hash({"a": [1, "x"], "b": 2})
    assert json.loads(row["counts"]) == {"docs": 5}
    full = store.con.execute("SELECT environment, timings, config FROM runs").fetchone()
    environment, timings, stored_config = (json.loads(value) for value in full)
    assert environment["packages"]["duckdb"] == duckdb.__version__
    assert set(timings) == {"work", "total"} and timings["total"] >= timings["work"] >= 0
    assert stored_config == config


def test_failed_run_is_recorded_with_its_error(store):
    with pytest.raises(ValueError):
        with record_run(store, "demo", {}):
            raise ValueError("bad input in file x.jsonl:3")
    row = store.rows("runs/list", {"limit": 1})[0]
    assert row["status"] == "failed"
    assert row["error"] == "ValueError: bad input in file x.jsonl:3"


def test_a_second_writer_gets_one_line_naming_the_store_and_the_process_holding_it(tmp_path):
    import os
    import subprocess
    import sys

    db = tmp_path / "s.duckdb"
    open_store(db).close()
    data = tmp_path / "a.jsonl"
    data.write_text('{"text": "one"}\n')
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time, duckdb\n"
                               "con = duckdb.connect(sys.argv[1])\nprint('ready', flush=True)\ntime.sleep(60)",
                               str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        expected = (f"store {db} is held by another datacomp process (PID {holder.pid}) writing to it: wait for "
                    "it to finish (read-only commands such as `datacomp store runs` work meanwhile), or pass "
                    "another --db")
        with pytest.raises(DatacompError) as raised:
            open_store(db)
        assert str(raised.value) == expected
        result = subprocess.run([sys.executable, "-m", "datacomp", "ingest", str(data), "--corpus", "c",
                                 "--db", str(db)], capture_output=True, text=True, timeout=120,
                                env={**os.environ, "COLUMNS": "400"})
    finally:
        holder.kill()
        holder.wait()
    assert (result.returncode, result.stderr) == (2, f"error: {expected}\n")


def test_an_interrupted_run_is_recorded_interrupted_with_its_process(store):
    import os

    from datacomp.store.run_liveness import this_host

    with pytest.raises(KeyboardInterrupt):
        with record_run(store, "demo", {}):
            raise KeyboardInterrupt
    row = store.rows("runs/list", {"limit": 1})[0]
    assert (row["status"], row["error"]) == ("interrupted", "KeyboardInterrupt: ")
    assert (row["pid"], row["host"]) == (os.getpid(), this_host())
    assert row["finished_at"] is not None and row["heartbeat_at"] == row["started_at"]


def test_a_live_run_stamps_its_heartbeat_as_its_progress_advances(store, monkeypatch):
    from datacomp.progress import progress_bar
    from datacomp.store import runs

    monkeypatch.setattr(runs, "HEARTBEAT_SECONDS", 0.0)
    with record_run(store, "demo", {}) as run:
        started = store.con.execute("SELECT heartbeat_at FROM runs WHERE run_id = $r", {"r": run.run_id}).fetchone()[0]
        with progress_bar("x", total=1) as bar:
            bar.advance(1)
        beat = store.con.execute("SELECT heartbeat_at FROM runs WHERE run_id = $r", {"r": run.run_id}).fetchone()[0]
    assert beat > started


def test_reading_an_older_store_reads_a_migrated_copy_and_leaves_the_file_as_it_was(tmp_path):
    """A dry run or a read command on a store an older datacomp wrote: the current schema, the file untouched."""
    from datacomp.store.db import Store

    path = tmp_path / "old.duckdb"
    old = Store(path, target_version=10)
    old.con.execute("INSERT INTO compressors (compressor_id, method, ratio, config) VALUES "
                    "('c1', 'comi', 4, '{}'), ('a1', 'autoencoder', 4, '{\"decoder_lora\": true}'), "
                    "('a2', 'autoencoder', 4, '{}'), ('s1', 'sac', 4, '{}')")
    old.close()
    before = path.read_bytes()
    with open_store(path, read_only=True) as store:
        assert store.schema_version == SCHEMA_VERSION
        tuned = dict(store.con.execute("SELECT compressor_id, decoder_tuned FROM compressors").fetchall())
        copy = store.snapshot_dir
        assert copy is not None and copy.is_dir()
    assert tuned == {"c1": True, "a1": True, "a2": False, "s1": False}   # migration 12's backfill rule
    assert path.read_bytes() == before and not copy.exists()
    with Store(path, target_version=10) as again:
        assert again.schema_version == 10
