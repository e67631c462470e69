"""The compressor id hashes the precision the run resolves to, not the word asked for."""

import pytest
import torch

from datacomp.compressors.training_run import TrainRunConfig, plan_training
from datacomp.models import precision


@pytest.fixture
def store_with_model(store, tiny_lm_dir):
    from datacomp.models.registry import register_model

    register_model(store, tiny_lm_dir, "tiny")
    return store


def compressor_id(store, dtype: str) -> str:
    config = TrainRunConfig(method="autoencoder", train_slice="demo", encoder="tiny", decoder="tiny", dtype=dtype)
    return plan_training(store, config).compressor_id


def test_auto_on_a_cpu_is_the_fp32_compressor_and_bf16_another(store_with_model, monkeypatch):
    monkeypatch.setattr(precision, "default_device", lambda: torch.device("cpu"))
    ids = {dtype: compressor_id(store_with_model, dtype) for dtype in ("auto", "fp32", "bf16", "fp16")}
    assert ids["auto"] == ids["fp32"]
    assert len({ids["fp32"], ids["bf16"], ids["fp16"]}) == 3


def test_auto_on_a_bf16_gpu_is_the_bf16_compressor_not_the_cpu_one(store_with_model, monkeypatch):
    monkeypatch.setattr(precision, "default_device", lambda: torch.device("cpu"))
    cpu_auto, bf16 = compressor_id(store_with_model, "auto"), compressor_id(store_with_model, "bf16")
    monkeypatch.setattr(precision, "default_device", lambda: torch.device("cuda"))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    gpu_auto = compressor_id(store_with_model, "auto")
    assert gpu_auto == bf16 != cpu_auto


def test_an_unknown_precision_fails_before_any_model_loads(store_with_model):
    from datacomp.errors import DatacompError

    with pytest.raises(DatacompError, match="--dtype 'half': choose one of auto, fp32, bf16, fp16"):
        compressor_id(store_with_model, "half")
