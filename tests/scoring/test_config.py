"""Scoring options: precision names shared with train and evaluate."""

import pytest


def test_dtype_takes_the_short_names_of_train_and_evaluate_and_stores_the_torch_names():
    from datacomp.errors import DatacompError
    from datacomp.scoring.config import ScoreConfig

    assert [ScoreConfig(corpora=["c"], model="m", dtype=d).dtype for d in ("fp32", "bf16", "fp16", "bfloat16")] == \
        ["float32", "bfloat16", "float16", "bfloat16"]
    with pytest.raises(DatacompError, match="^dtype must be one of fp32, bf16, fp16 .*got 'int8'"):
        ScoreConfig(corpora=["c"], model="m", dtype="int8")
