"""`store merge` and `store import`: shard stores scored apart reconcile with one store scored whole, a second
merge adds nothing, and conflicting or orphaned rows are refused with their reason."""

from __future__ import annotations

import json
import math
import shutil

import pyarrow.parquet as pq
import pytest
from cli_capture import run_main

from datacomp.models.registry import resolve_model
from datacomp.scoring import ScoreConfig, score_corpus
from datacomp.store import open_store
from datacomp.store.merge import import_shards, merge_stores
from datacomp.store.shards import read_shard, shard_schema, shard_table

TEXTS = [f"document {i}: " + "the lazy dog sleeps under the tree " * (1 + i % 4) for i in range(12)]
KEY = ("doc_id", "model_id", "window_len", "stride", "dtype")
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def insert_documents(store, texts):
    import hashlib

    for i, text in enumerate(texts):
        store.run("scoring/fixture_document", {"doc_id": hashlib.sha256(text.encode()).hexdigest(), "corpus": "demo",
                                               "domain": "web", "text": text, "source": f"test:{i}"})


def rows(path, table="scores"):
    with open_store(path, read_only=True) as store:
        cursor = store.con.execute(f"SELECT * FROM {table} ORDER BY ALL")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r)) for r in cursor.fetchall()]


def same_rows(a, b, key, ignore=("run_id", "scored_at")):
    by_key = {tuple(r[k] for k in key): r for r in b}
    assert len(a) == len(b) == len(by_key)
    for row in a:
        other = by_key[tuple(row[k] for k in key)]
        for column, value in row.items():
            if column in ignore:
                continue
            if isinstance(value, float):
                assert math.isclose(value, other[column], rel_tol=1e-6, abs_tol=1e-6), (column, value, other[column])
            else:
                assert value == other[column], (column, value, other[column])


@pytest.fixture(scope="module")
def scored(tmp_path_factory, tiny_lm_pair):
    """A base store (documents, models), two copies scored as shards 0/2 and 1/2, and one scored whole."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # module-scoped: set up before the per-test one_torch_thread fixture
    tmp_path = tmp_path_factory.mktemp("scored")
    enc, dec = (str(p) for p in tiny_lm_pair)
    base = tmp_path / "base.duckdb"
    with open_store(base) as store:
        insert_documents(store, TEXTS)
        for folder in (enc, dec):
            resolve_model(store, folder)
    config = dict(corpora=["demo"], encoder=enc, decoder=dec, window=32, stride=16)
    paths = {}
    for name, shard in (("shard0", "0/2"), ("shard1", "1/2"), ("whole", "0/1")):
        paths[name] = tmp_path / f"{name}.duckdb"
        shutil.copy(base, paths[name])
        with open_store(paths[name]) as store:
            score_corpus(store, ScoreConfig(**config, shard=shard))
    paths["base"] = base
    torch.set_num_threads(threads)
    return paths


@pytest.fixture
def sharded(scored, tmp_path):
    """This test's own copies of the scored stores."""
    copies = {}
    for name, path in scored.items():
        copies[name] = tmp_path / path.name
        shutil.copy(path, copies[name])
    return copies


def test_merging_shard_stores_reconciles_with_one_whole_run_and_a_second_merge_adds_nothing(sharded, capsys):
    shard_rows = [len(rows(sharded[s])) for s in ("shard0", "shard1")]
    assert all(n > 0 for n in shard_rows) and sum(shard_rows) == 2 * len(TEXTS)
    code, out, err = run_main(capsys, "store", "merge", str(sharded["shard0"]), str(sharded["shard1"]),
                              "--db", str(sharded["base"]), "--json", "--strict")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["tables"]["scores"] == {"added": 2 * len(TEXTS), "skipped": 0, "refused": 0, "reasons": {},
                                           "examples": {}}
    assert summary["tables"]["gaps"]["added"] == len(TEXTS)
    # both shards hold the base's documents and models: skipped, once per shard
    assert summary["tables"]["documents"] == {
        "added": 0, "skipped": 2 * len(TEXTS), "refused": 0,
        "reasons": {"skipped: already in the store": 2 * len(TEXTS)},
        "examples": {"skipped: already in the store": f"doc_id={min(r['doc_id'] for r in rows(sharded['base'], 'documents'))}"}}
    assert summary["tables"]["runs"]["added"] == 2   # each shard's scoring run, for provenance
    assert "pipeline_stages" in summary["not_merged"]
    same_rows(rows(sharded["base"]), rows(sharded["whole"]), KEY)
    same_rows(rows(sharded["base"], "gaps"), rows(sharded["whole"], "gaps"), ("doc_id", "encoder_id", "decoder_id"))

    with open_store(sharded["base"]) as store:
        again = merge_stores(store, [sharded["shard0"], sharded["shard1"], sharded["whole"]])
        runs = store.con.execute("SELECT stage, counts FROM runs WHERE stage = 'merge'").fetchall()
    assert again.total("added") == 1   # the whole run's runs row; every score and gap is already there
    assert again.tables["scores"].skipped == 4 * len(TEXTS) and again.total("refused") == 0
    assert json.loads(runs[0][1])["scores_added"] == 2 * len(TEXTS)


def test_conflicting_rows_and_rows_without_their_model_or_document_are_refused(sharded, capsys):
    with open_store(sharded["shard0"]) as store:
        doc, model = store.con.execute("SELECT doc_id, model_id FROM scores ORDER BY ALL LIMIT 1").fetchone()
        store.con.execute("UPDATE scores SET surprisal_mean = surprisal_mean * 1.01 WHERE doc_id = $d AND "
                          "model_id = $m", {"d": doc, "m": model})
        n_shard0 = store.con.execute("SELECT count(*) FROM scores").fetchone()[0]
    with open_store(sharded["shard1"]) as store:
        other = store.con.execute("SELECT DISTINCT model_id FROM scores ORDER BY 1 LIMIT 1").fetchone()[0]
        store.con.execute("UPDATE models SET revision = 'retrained' WHERE model_id = $m", {"m": other})
        n_other = store.con.execute("SELECT count(*) FROM scores WHERE model_id = $m", {"m": other}).fetchone()[0]
        n_shard1 = store.con.execute("SELECT count(*) FROM scores").fetchone()[0]
        n_gaps1 = store.con.execute("SELECT count(*) FROM gaps").fetchone()[0]
    whole = sharded["whole"]
    stored = {(r["doc_id"], r["model_id"]): r["surprisal_mean"] for r in rows(whole)}

    code, out, err = run_main(capsys, "store", "merge", str(sharded["shard0"]), str(sharded["shard1"]),
                              "--db", str(whole), "--strict")
    assert code == 2
    assert (f"warning: scores: 1 rows refused: differs from the stored row in surprisal_mean (e.g. doc_id={doc}, "
            f"model_id={model}, window_len=32, stride=16, dtype=float32)") in err
    assert f"warning: models: 1 rows refused: differs from the stored row in revision (e.g. model_id={other})" in err
    assert f"warning: scores: {n_other} rows refused: its models row was refused" not in err  # already stored: skipped
    after = {(r["doc_id"], r["model_id"]): r["surprisal_mean"] for r in rows(whole)}
    assert after == stored   # nothing replaced
    with open_store(whole, read_only=True) as store:
        counts = json.loads(store.con.execute("SELECT counts FROM runs WHERE stage = 'merge'").fetchone()[0])
    assert counts["scores_skipped"] == n_shard0 + n_shard1 - 1 and counts["scores_refused"] == 1

    # into the base store (no scores yet): the retrained model's rows are refused with it, the rest added
    with open_store(sharded["base"]) as store:
        summary = merge_stores(store, [sharded["shard1"]])
    scores = summary.tables["scores"]
    assert scores.reasons == {"refused: its models row was refused": n_other}
    assert (scores.added, scores.refused) == (n_shard1 - n_other, n_other)
    gaps = summary.tables["gaps"]   # every gap row names the retrained model as its encoder or decoder
    assert (gaps.added, gaps.refused, gaps.reasons) == (0, n_gaps1, {"refused: its models row was refused": n_gaps1})


def test_import_reconciles_shard_files_and_lists_a_truncated_one(sharded, tmp_path, capsys):
    whole = rows(sharded["whole"])
    folder = tmp_path / "shards"
    folder.mkdir()
    with open_store(sharded["base"]) as store:
        schema = shard_schema(store)
    half = len(whole) // 2
    pq.write_table(shard_table({"scores": whole[:half]}, schema), folder / "a.parquet")
    pq.write_table(shard_table({"scores": whole[half - 2:]}, schema), folder / "b.parquet")  # 2 rows twice
    orphan = dict(whole[0], doc_id="not-a-document")
    pq.write_table(shard_table({"scores": [orphan]}, schema), folder / "c.parquet")
    (folder / "d.parquet").write_bytes((folder / "a.parquet").read_bytes()[:200])  # a writer killed mid-file
    assert set(read_shard(folder / "a.parquet")) == {"scores"}

    code, out, err = run_main(capsys, "store", "import", str(folder), "--db", str(sharded["base"]), "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["tables"]["scores"]["added"] == len(whole)
    assert summary["tables"]["scores"]["skipped"] == 2
    assert summary["tables"]["scores"]["reasons"]["refused: no documents row for its doc_id"] == 1
    assert list(summary["unreadable"]) == [str(folder / "d.parquet")]
    assert "Parquet" in summary["unreadable"][str(folder / "d.parquet")]
    assert f"warning: not read: {folder / 'd.parquet'}" in err
    same_rows(rows(sharded["base"]), whole, KEY)

    with open_store(sharded["base"]) as store:
        again = import_shards(store, sorted(folder.glob("[abc].parquet")), remove_imported=True)
    assert (again.total("added"), again.total("skipped"), again.total("refused")) == (0, len(whole) + 2, 1)
    assert sorted(p.name for p in folder.iterdir()) == ["c.parquet", "d.parquet"]   # kept: refused, unreadable


def test_a_shard_column_the_store_does_not_have_is_an_error(store):
    from datacomp.errors import DatacompError

    schema = shard_schema(store, ["scores"])
    with pytest.raises(DatacompError, match="rows for table scores have column.s. surprisal_max that the store"):
        shard_table({"scores": [{"doc_id": "d", "surprisal_max": 1.0}]}, schema)
    with pytest.raises(DatacompError, match="rows for table.s. nosuch, which the shard schema does not have"):
        shard_table({"nosuch": [{}]}, schema)


def test_copy_tests_and_window_scores_without_their_model_are_refused(store, tmp_path):
    """Tables added this release reference their model (and document): an orphan row is refused, not added."""
    with open_store(tmp_path / "shard.duckdb") as shard:
        shard.run("models/copy_test_upsert", {"model_id": "ghost-1", "domain": "code", "segment_tokens": 64,
                                               "segments": 8, "first_nll": 5.0, "restated_nll": 1.0,
                                               "reads_context": True, "run_id": None})
        shard.run("evaluation/window_scores_insert", {
            "eval_id": "e", "example_id": "x", "doc_id": None, "encoder_id": None, "decoder_id": "ghost-1",
            "n_tokens": 4, "n_bytes": 10, **dict.fromkeys(
                ["enc_entropy", "enc_surprisal", "enc_bits_per_byte", "dec_entropy", "dec_surprisal",
                 "dec_bits_per_byte", "kl_enc_dec", "kl_dec_enc", "js", "tenc_entropy", "tenc_surprisal",
                 "tenc_bits_per_byte", "run_id"])})
    summary = merge_stores(store, [tmp_path / "shard.duckdb"])
    for table in ("copy_tests", "window_scores"):
        assert (summary.tables[table].added, summary.tables[table].refused) == (0, 1), table
        assert summary.tables[table].reasons == {"refused: no models row for its model_id" if table == "copy_tests"
                                                 else "refused: no models row for its decoder_id": 1}
