"""The evaluation id hashes the precision the systems run in (resolved), not the word asked for."""

import torch

from datacomp.evaluation.runner import EvalConfig, EvalSetup, evaluation_id
from datacomp.models import precision


def eval_id(name: str, device: str, monkeypatch) -> str:
    monkeypatch.setattr(precision, "default_device", lambda: torch.device(device))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    config = EvalConfig(compressor="none", decoder="d", task="reconstruction", slice="s", dtype=name)
    setup = EvalSetup(decoder=None, tokenizer=None, decoder_id="d", examples=[], context_tokens=64, ratio=4.0,
                      eval_slice="s", precision=precision.resolve_precision(config.dtype))
    return evaluation_id(config, setup, max_new_tokens=16)


def test_auto_is_fp32_on_a_cpu_and_bf16_on_a_gpu(monkeypatch):
    cpu_auto, fp32 = eval_id("auto", "cpu", monkeypatch), eval_id("fp32", "cpu", monkeypatch)
    gpu_auto, bf16 = eval_id("auto", "cuda", monkeypatch), eval_id("bf16", "cuda", monkeypatch)
    assert cpu_auto == fp32 and gpu_auto == bf16 and fp32 != bf16
