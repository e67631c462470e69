"""Scoring options: the one precision vocabulary (models/precision.py), stored by torch names."""

import pytest


def test_dtype_takes_the_vocabulary_and_the_legacy_torch_names():
    from datacomp.errors import DatacompError
    from datacomp.scoring.config import ScoreConfig

    assert [ScoreConfig(corpora=["c"], model="m", dtype=d).dtype
            for d in ("auto", "fp32", "bf16", "fp16", "bfloat16", "float32")] == \
        ["auto", "fp32", "bf16", "fp16", "bf16", "fp32"]
    with pytest.raises(DatacompError, match="^dtype 'int8': choose one of auto, fp32, bf16, fp16"):
        ScoreConfig(corpora=["c"], model="m", dtype="int8")


def test_auto_resolves_before_the_rows_are_keyed(store, tiny_lm_dir, monkeypatch):
    """auto on a CPU is fp32: its rows carry float32, the key an explicit fp32 run resumes from."""
    from datacomp.models import precision
    from datacomp.scoring.config import ScoreConfig
    from datacomp.scoring.plan import plan_scoring
    from scoring_docs import SAMPLE_TEXTS, insert_documents

    insert_documents(store, SAMPLE_TEXTS)
    monkeypatch.setattr(precision, "default_device", lambda: __import__("torch").device("cpu"))
    plans = {d: plan_scoring(store, ScoreConfig(corpora=["demo"], model=str(tiny_lm_dir), dtype=d))
             for d in ("auto", "fp32", "bf16")}
    assert {d: p.key("r")["dtype"] for d, p in plans.items()} == \
        {"auto": "float32", "fp32": "float32", "bf16": "bfloat16"}
