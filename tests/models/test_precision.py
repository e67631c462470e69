"""The one precision vocabulary and rule (scoring, pretraining, compressor training, evaluation) and its TF32 scope."""

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
    with pytest.raises(DatacompError, match="^dtype 'half': choose one of auto, fp32, bf16, fp16"):
        prec.resolve_precision("half")
    assert prec.resolve_precision("auto", "cpu").name == "fp32"  # any CPU: bf16 autocast measured no faster


def tf32_state():
    return (torch.backends.cuda.matmul.allow_tf32, torch.get_float32_matmul_precision())


@pytest.fixture
def restore_tf32():
    saved = torch.backends.cuda.matmul.allow_tf32
    yield
    torch.backends.cuda.matmul.allow_tf32 = saved


def test_resolving_a_mixed_cuda_precision_sets_nothing(restore_tf32):
    before = tf32_state()
    assert prec.resolve_precision("bf16", "cuda").mixed       # a descriptor: no GPU needed to resolve it
    assert tf32_state() == before


@pytest.mark.parametrize("process_had_tf32", [False, True])
def test_a_bf16_stage_then_an_fp32_stage_leave_tf32_as_it_was(process_had_tf32, restore_tf32):
    torch.backends.cuda.matmul.allow_tf32 = process_had_tf32
    before = tf32_state()
    with prec.matmul_scope(prec.resolve_precision("bf16", "cuda")):
        assert tf32_state() == (True, "high")                  # the fp32 parts of a mixed CUDA run
    assert tf32_state() == before
    with prec.matmul_scope(prec.resolve_precision("fp32", "cuda")):
        assert tf32_state() == (False, "highest")              # rows that say float32 are exact float32
    with prec.matmul_scope(prec.resolve_precision("bf16", "cpu")):
        assert tf32_state() == (False, "highest")              # TF32 is a CUDA matmul mode only
    assert tf32_state() == before


def test_score_stage_runs_exact_fp32_inside_a_process_with_tf32_on(store, tiny_lm_dir, monkeypatch, restore_tf32):
    """The stage, not only the scope: a score run sees TF32 off and leaves the process's setting alone."""
    import datacomp.scoring.engine as engine
    from datacomp.scoring import ScoreConfig

    store.run("scoring/fixture_document", {"doc_id": "d1", "corpus": "demo", "domain": "web",
                                           "text": "Some words to score here.", "source": "test:0"})
    seen = []
    monkeypatch.setattr(engine, "score_block", lambda *args: seen.append(tf32_state()))
    torch.backends.cuda.matmul.allow_tf32 = True
    engine.score_corpus(store, ScoreConfig(corpora=["demo"], model=str(tiny_lm_dir), dtype="fp32"))
    assert seen == [(False, "highest")] and tf32_state() == (True, "high")


def test_pretrain_refuses_fp16_by_the_shared_vocabulary():
    from datacomp.models.pretrain import PretrainConfig

    with pytest.raises(DatacompError, match="^dtype fp16: pretraining runs on the CPU, where fp16 autocast has "
                                            "no loss scaling; choose auto, fp32, bf16"):
        PretrainConfig(name="m", mixture="prose=1", dtype="fp16")
    with pytest.raises(DatacompError, match="^dtype 'half': choose one of auto, fp32, bf16, fp16"):
        PretrainConfig(name="m", mixture="prose=1", dtype="half")


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
