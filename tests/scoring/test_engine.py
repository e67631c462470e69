"""The engine's stored numbers against the naive reference, plus nulls, gaps, shards, dtype and errors."""

from __future__ import annotations

import math

import pytest
from scoring_docs import SAMPLE_TEXTS, insert_documents
from scoring_naive import naive_gap, naive_scores

from datacomp.errors import DatacompError
from datacomp.models.loading import load_causal_lm
from datacomp.scoring import ScoreConfig, score_corpus
from datacomp.scoring.summary import domain_summary

WINDOW, STRIDE = 32, 12  # the long samples (99 and 172 tokens) need 7 and 13 windows


def stored(store, table, **where):
    cursor = store.con.execute(f"SELECT * FROM {table} ORDER BY ALL")
    columns = [d[0] for d in cursor.description]
    rows = [dict(zip(columns, r)) for r in cursor.fetchall()]
    return [r for r in rows if all(r[k] == v for k, v in where.items())]


def close(a, b, rel=1e-4):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-6)


def test_engine_matches_naive_computation_with_gap(store, docs, tiny_lm_pair):
    enc_dir, dec_dir = tiny_lm_pair
    # a small budget forces several batches, and windows of one document straddle batches
    summary = score_corpus(store, ScoreConfig(corpora=["demo"], encoder=str(enc_dir), decoder=str(dec_dir),
                                              window=WINDOW, stride=STRIDE, token_budget=100))
    assert summary.gap_method == "token" and summary.batches > 5
    assert summary.docs_scored == len(SAMPLE_TEXTS) and summary.docs_null == 0
    encoder, tokenizer = load_causal_lm(enc_dir)
    decoder, _ = load_causal_lm(dec_dir)
    enc_id, dec_id = summary.model_ids
    scores = {(r["doc_id"], r["model_id"]): r for r in stored(store, "scores")}
    gaps = {r["doc_id"]: r for r in stored(store, "gaps")}
    assert len(scores) == 2 * len(docs) and len(gaps) == len(docs)
    for doc_id, text in zip(docs, SAMPLE_TEXTS):
        ref_enc = naive_scores(encoder, tokenizer, text, WINDOW, STRIDE)
        ref_dec = naive_scores(decoder, tokenizer, text, WINDOW, STRIDE)
        for model_id, ref in ((enc_id, ref_enc), (dec_id, ref_dec)):
            row = scores[(doc_id, model_id)]
            assert row["n_tokens"] == ref["n_tokens"] and row["n_bytes"] == len(text.encode())
            assert (row["window_len"], row["stride"], row["dtype"]) == (WINDOW, STRIDE, "float32")
            assert row["null_reason"] is None
            for key in ("surprisal_mean", "surprisal_std", "entropy_mean", "entropy_std", "bits_per_byte"):
                assert close(row[key], ref[key]), (text[:20], model_id, key, row[key], ref[key])
        ref_gap = naive_gap(ref_enc["p"], ref_dec["p"])
        gap = gaps[doc_id]
        assert gap["method"] == "token" and gap["n_tokens"] == ref_enc["n_tokens"]
        for key in ("kl_enc_dec", "kl_dec_enc", "js", "js_std"):
            assert close(gap[key], ref_gap[key]), (text[:20], key, gap[key], ref_gap[key])
        assert close(gap["bpb_diff"], ref_enc["bits_per_byte"] - ref_dec["bits_per_byte"])

    (domain,) = domain_summary(store, enc_id, dec_id, WINDOW, STRIDE)
    enc_rows = [scores[(d, enc_id)] for d in docs]
    assert (domain["corpus"], domain["domain"], domain["n_docs"], domain["n_scored"]) == ("demo", "web", 7, 7)
    assert close(domain["enc_entropy"], sum(r["entropy_mean"] for r in enc_rows) / len(enc_rows))
    total_bits = sum(r["surprisal_mean"] * r["n_tokens"] for r in enc_rows) / math.log(2)
    assert close(domain["enc_bpb"], total_bits / sum(len(t.encode()) for t in SAMPLE_TEXTS))
    assert close(domain["js"], sum(g["js"] for g in gaps.values()) / len(gaps))


def test_single_model_matches_naive_and_window_changes_the_score(store, docs, tiny_lm_dir):
    summary = score_corpus(store, ScoreConfig(corpora=["demo"], model=str(tiny_lm_dir), window=WINDOW,
                                              stride=STRIDE))
    assert summary.gap_method is None and stored(store, "gaps") == []
    model, tokenizer = load_causal_lm(tiny_lm_dir)
    long_doc, long_text = docs[1], SAMPLE_TEXTS[1]
    row = stored(store, "scores", doc_id=long_doc)[0]
    assert close(row["surprisal_mean"], naive_scores(model, tokenizer, long_text, WINDOW, STRIDE)["surprisal_mean"])
    # a second (window, stride) is a separate set of rows, and its numbers differ on a multi-window doc
    score_corpus(store, ScoreConfig(corpora=["demo"], model=str(tiny_lm_dir), window=64, stride=16))
    rows = stored(store, "scores", doc_id=long_doc)
    assert sorted((r["window_len"], r["stride"]) for r in rows) == [(32, 12), (64, 16)]
    wide = [r for r in rows if r["window_len"] == 64][0]
    assert close(wide["surprisal_mean"], naive_scores(model, tokenizer, long_text, 64, 16)["surprisal_mean"])
    assert not close(wide["surprisal_mean"], row["surprisal_mean"], rel=1e-6)


def test_empty_and_one_token_documents_get_null_metrics_with_reason(store, tiny_lm_pair):
    ids = insert_documents(store, ["", "a", "a b c d"])
    enc_dir, dec_dir = tiny_lm_pair
    summary = score_corpus(store, ScoreConfig(corpora=["demo"], encoder=str(enc_dir), decoder=str(dec_dir),
                                              window=WINDOW, stride=STRIDE))
    assert summary.docs_null == 2 and summary.docs_scored == 3
    metric_columns = ("surprisal_mean", "surprisal_std", "entropy_mean", "entropy_std", "bits_per_byte")
    for doc_id, reason, n_tokens in ((ids[0], "empty", 0), (ids[1], "one_token", 1)):
        rows = stored(store, "scores", doc_id=doc_id)
        assert len(rows) == 2
        for row in rows:
            assert row["null_reason"] == reason and row["n_tokens"] == n_tokens
            assert all(row[c] is None for c in metric_columns)
        (gap,) = stored(store, "gaps", doc_id=doc_id)
        assert gap["null_reason"] == reason and gap["js"] is None and gap["kl_enc_dec"] is None
    # no NaN anywhere: every non-null metric is a finite number
    for row in stored(store, "scores", doc_id=ids[2]):
        assert all(math.isfinite(row[c]) for c in metric_columns)


def test_rerun_skips_scored_documents(store, docs, tiny_lm_dir):
    config = ScoreConfig(corpora=["demo"], model=str(tiny_lm_dir), window=WINDOW, stride=STRIDE, limit=3)
    first = score_corpus(store, config)
    assert (first.docs_selected, first.docs_scored) == (3, 3)
    config.limit = None
    second = score_corpus(store, config)
    assert (second.docs_selected, second.docs_skipped, second.docs_scored) == (len(docs), 3, len(docs) - 3)
    third = score_corpus(store, config)
    assert (third.docs_skipped, third.docs_scored) == (len(docs), 0)
    assert len(stored(store, "scores")) == len(docs)
    run = store.con.execute("SELECT status, counts FROM runs WHERE run_id = $r", {"r": second.run_id}).fetchone()
    assert run[0] == "finished" and '"docs_scored": 4' in run[1]


def test_shards_partition_the_corpus(store, tiny_lm_dir):
    ids = insert_documents(store, [f"document number {i} says {i * i}" for i in range(24)])
    seen = []
    for i in range(3):
        summary = score_corpus(store, ScoreConfig(corpora=["demo"], model=str(tiny_lm_dir), shard=f"{i}/3",
                                                  window=WINDOW, stride=STRIDE))
        seen.append({r["doc_id"] for r in stored(store, "scores", run_id=summary.run_id)})
        assert 0 < len(seen[-1]) < len(ids)
    assert set().union(*seen) == set(ids) and sum(len(s) for s in seen) == len(ids)
    # deterministic: the same shard selects the same documents again
    store.con.execute("DELETE FROM scores")
    again = score_corpus(store, ScoreConfig(corpora=["demo"], model=str(tiny_lm_dir), shard="1/3",
                                            window=WINDOW, stride=STRIDE))
    assert {r["doc_id"] for r in stored(store, "scores", run_id=again.run_id)} == seen[1]


def test_a_documents_shard_is_its_md5_modulo_n_in_exact_arithmetic(store):
    """md5_number is a 128-bit integer; a bound shard count once turned the modulo into floating point, where
    a double near 2**127 is even, so every document fell in shard 0 of 2, 4, 8..."""
    import hashlib

    ids = insert_documents(store, [f"document number {i}" for i in range(40)])
    for count in (2, 4, 3):
        for index in range(count):
            selected = {r["doc_id"] for r in store.rows("scoring/docs_to_score", {
                "corpora": ["demo"], "slice": None, "shard_index": index, "shard_count": count, "limit": None,
                "model_ids": ["m"], "window_len": 32, "stride": 16, "dtype": "float32", "encoder_id": None,
                "decoder_id": None})}
            expected = {d for d in ids if int.from_bytes(hashlib.md5(d.encode()).digest(), "little") % count == index}
            assert selected == expected and 0 < len(selected) < len(ids), (count, index)


def test_bfloat16_within_stated_bound_of_float32(store, docs, tiny_lm_dir):
    """Bound: bf16 weights/activations with float32 log-softmax move per-document means by < 2% relative
    (bf16 has an 8-bit mantissa, ~0.4% per rounding; errors partly cancel over a document)."""
    for dtype in ("float32", "bfloat16"):
        score_corpus(store, ScoreConfig(corpora=["demo"], model=str(tiny_lm_dir), window=WINDOW,
                                        stride=STRIDE, dtype=dtype))
    by_dtype = {}
    for row in stored(store, "scores"):
        by_dtype.setdefault(row["dtype"], {})[row["doc_id"]] = row
    assert set(by_dtype) == {"float32", "bfloat16"}
    for doc_id in docs:
        exact, low = by_dtype["float32"][doc_id], by_dtype["bfloat16"][doc_id]
        for key in ("surprisal_mean", "entropy_mean", "bits_per_byte"):
            assert math.isclose(low[key], exact[key], rel_tol=0.02), (key, low[key], exact[key])


def test_mismatched_tokenizers_fall_back_to_bpb_diff(store, docs, tiny_lm_dir, tmp_path, capsys):
    from transformers import AutoTokenizer

    # same weights, a tokenizer with one extra token: a different vocabulary hash
    other = tmp_path / "other_tok"
    model, tokenizer = load_causal_lm(tiny_lm_dir)
    tokenizer.add_tokens(["zzqx"])
    model.save_pretrained(other)
    tokenizer.save_pretrained(other)
    assert len(AutoTokenizer.from_pretrained(other)) == len(tokenizer)
    summary = score_corpus(store, ScoreConfig(corpora=["demo"], encoder=str(tiny_lm_dir), decoder=str(other),
                                              window=WINDOW, stride=STRIDE))
    assert summary.gap_method == "bpb_diff"
    assert "different tokenizers" in capsys.readouterr().err
    assert any("token-level gap (KL/JS) is impossible" in w for w in summary.warnings)
    enc_id, dec_id = summary.model_ids
    bpb = {(r["doc_id"], r["model_id"]): r["bits_per_byte"] for r in stored(store, "scores")}
    gaps = stored(store, "gaps")
    assert len(gaps) == len(docs)
    for gap in gaps:
        assert gap["method"] == "bpb_diff" and gap["kl_enc_dec"] is None and gap["js"] is None
        assert gap["bpb_diff"] == pytest.approx(bpb[(gap["doc_id"], enc_id)] - bpb[(gap["doc_id"], dec_id)])


@pytest.mark.parametrize("config, message", [
    (dict(model="M", encoder="E"), "^model excludes encoder and decoder"),
    (dict(encoder="E"), "^encoder given alone"),
    (dict(), "^model is missing: pass a model, or encoder and decoder"),
    (dict(model="M", shard="3/2"), "^shard 3/2"),
    (dict(model="M", shard="half"), "^shard must look like i/n"),
    (dict(model="M", corpora=[]), "^corpora is empty and there is no slice"),
])
def test_bad_configs_are_named(store, config, message):
    config = {"corpora": ["demo"], **config}
    with pytest.raises(DatacompError, match=message):
        ScoreConfig(**config)  # refused as it is built


def test_bad_window_and_stride_are_named(store, docs, tiny_lm_dir):
    with pytest.raises(DatacompError, match="^window 128 exceeds the context length 64"):
        score_corpus(store, ScoreConfig(corpora=["demo"], model=str(tiny_lm_dir), window=128))
    with pytest.raises(DatacompError, match="^stride must be between 1 and window - 1 = 31"):
        score_corpus(store, ScoreConfig(corpora=["demo"], model=str(tiny_lm_dir), window=32, stride=32))


def test_default_window_is_model_context_and_unknown_corpus_is_an_error(store, docs, tiny_lm_dir):
    from datacomp.errors import DatacompError

    summary = score_corpus(store, ScoreConfig(corpora=["demo"], model=str(tiny_lm_dir), limit=1))
    assert (summary.window, summary.stride) == (64, 32)
    with pytest.raises(DatacompError, match="unknown corpus 'nope'; known: demo"):
        score_corpus(store, ScoreConfig(corpora=["nope"], model=str(tiny_lm_dir)))



def test_a_slice_restricts_scoring_to_its_members(store, docs, tiny_lm_dir):
    """--slice scores only the slice's documents (here the two of a 'domain' slice); an unknown slice is an
    error naming the known ones, raised before any run is recorded."""
    from datacomp.curation.slices import create_slice, slice_doc_ids
    from datacomp.errors import DatacompError

    other = insert_documents(store, ["A second corpus document.", "And another one here."], corpus="other",
                             domain="poetry")
    create_slice(store, "poems", "domain", {"domains": ["poetry"]})
    assert sorted(slice_doc_ids(store, "poems")) == sorted(other)
    summary = score_corpus(store, ScoreConfig(corpora=[], slice="poems", model=str(tiny_lm_dir), window=WINDOW,
                                              stride=STRIDE))
    assert summary.docs_selected == 2 and summary.docs_scored == 2
    scored = {r[0] for r in store.con.execute("SELECT doc_id FROM scores").fetchall()}
    assert scored == set(other)
    runs = store.con.execute("SELECT count(*) FROM runs WHERE stage = 'score'").fetchone()[0]
    with pytest.raises(DatacompError, match=r"--slice 'nope': no such slice \(known: poems\)"):
        score_corpus(store, ScoreConfig(corpora=[], slice="nope", model=str(tiny_lm_dir)))
    assert store.con.execute("SELECT count(*) FROM runs WHERE stage = 'score'").fetchone()[0] == runs
