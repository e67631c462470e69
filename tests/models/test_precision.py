"""The precision rule shared by pretraining, compressor training and evaluation."""

import contextlib

import pytest
import torch

from datacomp.errors import DatacompError
from datacomp.models import precision as prec


def test_names_dtypes_and_errors():
    assert prec.resolve_precision("fp32", "cpu").dtype == torch.float32
    assert prec.resolve_precision("bf16", "cpu").dtype == torch.bfloat16
    assert isinstance(prec.resolve_precision("fp32", "cpu").autocast(), contextlib.nullcontext)
    assert prec.resolve_precision("fp16", "cpu").grad_scaler() is None        # only fp16 on CUDA scales
    with pytest.raises(DatacompError, match="--dtype 'half': choose one of auto, bf16, fp16, fp32"):
        prec.resolve_precision("half")
    assert prec.resolve_precision("auto", "cpu").name == "fp32"  # any CPU: bf16 autocast measured no faster


def test_apply_precision_keeps_trained_parameters_fp32_on_cpu():
    module = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 4))
    module[0].requires_grad_(False)
    prec.apply_precision(module, prec.resolve_precision("bf16", "cpu"))
    # on a CPU nothing is cast (autocast computes in bf16); on CUDA the frozen layer would be bf16
    assert all(p.dtype == torch.float32 for p in module.parameters())


def test_cosine_schedule_warms_up_then_decays_to_a_tenth():
    from datacomp.compressors.train import TrainConfig, learning_rate_at

    config = TrainConfig(steps=110, learning_rate=1.0, warmup_steps=10, schedule="cosine")
    assert learning_rate_at(0, config) == pytest.approx(0.1)
    assert learning_rate_at(9, config) == pytest.approx(1.0)
    assert learning_rate_at(10, config) == pytest.approx(1.0)
    assert learning_rate_at(60, config) == pytest.approx(0.55)
    assert learning_rate_at(110, config) == pytest.approx(0.1)
    assert learning_rate_at(50, TrainConfig(learning_rate=1.0, warmup_steps=10)) == 1.0   # constant
