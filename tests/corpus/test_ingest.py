"""Deduplication, idempotence, batch atomicity and the run record."""

import json

import pytest

from corpus_helpers import counts, identity_holds, write_jsonl
from datacomp.corpus import IngestConfig, ingest_paths
from datacomp.corpus import writer


def test_reingestion_adds_nothing(store, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": f"doc {i}"} for i in range(5)] + [{"text": "doc 0"}],
                       [b"{bad json"])
    first = ingest_paths(store, [str(path)], IngestConfig(corpus="c", batch_size=2))
    assert (first.read, first.ingested, first.duplicates, first.quarantined) == (7, 5, 1, 1)
    before = counts(store)
    second = ingest_paths(store, [str(path)], IngestConfig(corpus="c", batch_size=2))
    assert (second.read, second.ingested, second.duplicates, second.quarantined) == (7, 0, 6, 1)
    assert counts(store) == before == {"documents": 5, "duplicates": 1, "quarantine": 1}


def test_reingesting_a_bad_file_by_any_spelling_of_its_path_adds_no_quarantine_row(store, tmp_path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    path = write_jsonl(folder / "bad.jsonl", [{"text": "good"}, {"body": "x"}, {"text": ""}],
                       [b"{bad json"])
    monkeypatch.chdir(tmp_path)
    first = ingest_paths(store, ["data/bad.jsonl"], IngestConfig(corpus="c"))
    assert (first.ingested, first.quarantined) == (1, 3)
    before = counts(store)
    assert before == {"documents": 1, "duplicates": 0, "quarantine": 3}
    for spelling in ["data/bad.jsonl", "./data/bad.jsonl", str(path), "data", "data/../data/bad.jsonl"]:
        again = ingest_paths(store, [spelling], IngestConfig(corpus="c"))
        assert (again.read, again.duplicates, again.quarantined) == (4, 1, 3)
        assert counts(store) == before, spelling
    monkeypatch.chdir(folder)
    ingest_paths(store, ["bad.jsonl"], IngestConfig(corpus="c"))
    assert counts(store) == before
    locators = store.con.execute("SELECT locator FROM quarantine ORDER BY locator").fetchall()
    assert locators == [(f"{path}:2",), (f"{path}:3",), (f"{path}:4",)]  # absolute, whatever was typed


def test_duplicates_within_and_across_corpora(store, tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [{"text": "shared"}, {"text": "only a"}, {"text": "shared"}])
    b = write_jsonl(tmp_path / "b.jsonl", [{"text": "Shared"}, {"text": "shared\r\n"}])
    ingest_paths(store, [str(a)], IngestConfig(corpus="ca"))
    summary = ingest_paths(store, [str(b)], IngestConfig(corpus="cb"))
    assert (summary.ingested, summary.duplicates) == (1, 1)  # case differs; \r\n normalises away
    docs = store.con.execute("SELECT text, corpus, source FROM documents ORDER BY text").fetchall()
    assert docs == [("Shared", "cb", f"{b}:1"), ("only a", "ca", f"{a}:2"), ("shared", "ca", f"{a}:1")]
    dups = store.con.execute("SELECT corpus, source FROM duplicates ORDER BY corpus").fetchall()
    assert dups == [("ca", f"{a}:3"), ("cb", f"{b}:2")]


def test_duplicate_inside_one_batch_is_counted_once_stored_once(store, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "same"}] * 4)
    summary = ingest_paths(store, [str(path)], IngestConfig(corpus="c", batch_size=10))
    assert (summary.ingested, summary.duplicates) == (1, 3)
    assert counts(store) == {"documents": 1, "duplicates": 3, "quarantine": 0}


def test_failed_batch_leaves_no_partial_rows(store, tmp_path, monkeypatch):
    # batch size 3: batch 1 = lines 1-3, batch 2 = lines 4-6 (each batch has docs and a bad record)
    rows = [{"text": "b1 first"}, {"text": "b1 second"}, {"nope": 1},
            {"text": "b2 first"}, {"text": "b2 second"}, {"nope": 2}]
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    calls = {"n": 0}
    real_insert_quarantine = writer._insert_quarantine

    def failing_second_time(*args):
        calls["n"] += 1
        if calls["n"] == 2:  # documents of batch 2 are already inserted inside its transaction
            raise RuntimeError("disk on fire")
        return real_insert_quarantine(*args)

    monkeypatch.setattr(writer, "_insert_quarantine", failing_second_time)
    with pytest.raises(RuntimeError, match="disk on fire"):
        ingest_paths(store, [str(path)], IngestConfig(corpus="c", batch_size=3))
    texts = [r[0] for r in store.con.execute("SELECT text FROM documents ORDER BY text").fetchall()]
    assert texts == ["b1 first", "b1 second"]
    assert [r[0] for r in store.con.execute("SELECT locator FROM quarantine").fetchall()] == [f"{path}:3"]
    run = store.con.execute("SELECT status, error, counts FROM runs WHERE stage = 'ingest'").fetchone()
    assert run[0] == "failed" and "disk on fire" in run[1]
    assert json.loads(run[2])["read"] == 3  # only the committed batch is counted
    # a re-run after the crash completes the job without duplicating the first batch
    monkeypatch.setattr(writer, "_insert_quarantine", real_insert_quarantine)
    summary = ingest_paths(store, [str(path)], IngestConfig(corpus="c", batch_size=3))
    assert (summary.ingested, summary.duplicates, summary.quarantined) == (2, 2, 2)
    assert counts(store) == {"documents": 4, "duplicates": 0, "quarantine": 2}


def test_run_recorded_with_counts_and_corpus_described(store, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "one"}, {"text": ""}])
    summary = ingest_paths(store, [str(path)], IngestConfig(corpus="c", license="CC0"))
    assert identity_holds(summary, store)
    status, config, run_counts = store.con.execute(
        "SELECT status, config, counts FROM runs WHERE run_id = $r", {"r": summary.run_id}).fetchone()
    assert status == "finished"
    assert json.loads(config)["corpus"] == "c"
    assert json.loads(run_counts) == {"read": 2, "ingested": 1, "duplicates": 0, "quarantined": 1,
                                      "reasons": {"empty_text": 1}}
    listed = store.rows("corpus/list")
    assert [(r["corpus"], r["documents"], r["characters"], r["quarantined"], r["source"], r["license"])
            for r in listed] == [("c", 1, 3, 1, str(path), "CC0")]


def test_missing_path_fails_before_writing(store, tmp_path):
    from datacomp.errors import DatacompError

    good = write_jsonl(tmp_path / "a.jsonl", [{"text": "one"}])
    with pytest.raises(DatacompError, match=f"input not found: {tmp_path / 'missing.jsonl'}"):
        ingest_paths(store, [str(good), str(tmp_path / "missing.jsonl")], IngestConfig(corpus="c"))
    assert counts(store)["documents"] == 0


def test_bad_corpus_name(store, tmp_path):
    from datacomp.errors import DatacompError

    with pytest.raises(DatacompError, match="^corpus 'a b': use letters"):
        ingest_paths(store, [str(tmp_path)], IngestConfig(corpus="a b"))
