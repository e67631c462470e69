"""The shared training loop: a resumed run is the same run (in process, and after SIGKILL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from datacomp.compressors.example import TaskExample
from datacomp.compressors.registry import build_compressor
from datacomp.compressors.train import TrainConfig, step_example_indices, train_compressor, train_stages
from datacomp.errors import DatacompError

EXAMPLES = [
    TaskExample(f"c{i}", "continuation", text[:30], "", text[30:60])
    for i, text in enumerate([
        "The quick brown fox jumps over the lazy dog. The quick brown fox jumps again.",
        "To be, or not to be, that is the question: whether 'tis nobler in the mind.",
        "Paris is the capital and most populous city of France, with an estimated population.",
    ])
]
OPTIONS = {"ratio": 4, "max_context_tokens": 16, "max_target_tokens": 8, "reconstruction_share": 0.5}
TRAIN = {"steps": 6, "batch_size": 2, "learning_rate": 1e-2, "warmup_steps": 2, "checkpoint_every": 2}


def _params(compressor):
    return compressor.trainable_state_dict()


def _assert_same_params(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_example_order_is_a_function_of_the_step():
    # 5 examples, batch 2: steps 0-1 and half of step 2 run through epoch 0's permutation, then epoch 1's
    order = [i for step in range(5) for i in step_example_indices(step, 2, 5, seed=7)]
    epoch0 = torch.randperm(5, generator=torch.Generator().manual_seed(7 * 1_000_003)).tolist()
    epoch1 = torch.randperm(5, generator=torch.Generator().manual_seed(7 * 1_000_003 + 1)).tolist()
    assert order == epoch0 + epoch1
    assert step_example_indices(3, 2, 5, seed=7) == order[6:8]


def test_half_run_plus_resume_equals_straight_run(tiny_lm_dir, tmp_path):
    torch.manual_seed(0)
    straight = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, OPTIONS)
    full = train_compressor(straight, EXAMPLES, TrainConfig(**TRAIN), tmp_path / "straight")
    assert full.steps == 6 and len(full.losses) == 6 and full.resumed_from == 0

    torch.manual_seed(0)
    first = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, OPTIONS)
    half = train_compressor(first, EXAMPLES, TrainConfig(**{**TRAIN, "steps": 3}), tmp_path / "split")
    assert half.losses == full.losses[:3]
    assert (tmp_path / "split" / "LATEST").read_text().strip() == "ckpt-00000003"
    torch.manual_seed(123)  # the RNG state must come from the checkpoint, not from here
    fresh = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, OPTIONS)
    rest = train_compressor(fresh, EXAMPLES, TrainConfig(**TRAIN), tmp_path / "split")
    assert rest.resumed_from == 3
    assert rest.losses == full.losses
    _assert_same_params(_params(fresh), _params(straight))
    assert not torch.equal(_params(fresh)["memory_tokens"], _params(first)["memory_tokens"])


def test_resume_refuses_a_different_run(tiny_lm_dir, tmp_path):
    compressor = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, OPTIONS)
    train_compressor(compressor, EXAMPLES, TrainConfig(**{**TRAIN, "steps": 2}), tmp_path)
    with pytest.raises(DatacompError, match="train config key 'learning_rate'"):
        train_compressor(compressor, EXAMPLES, TrainConfig(**{**TRAIN, "learning_rate": 0.5}), tmp_path)
    other = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, {**OPTIONS, "ratio": 2})
    with pytest.raises(DatacompError, match="compressor config key 'ratio'"):
        train_compressor(other, EXAMPLES, TrainConfig(**TRAIN), tmp_path)
    with pytest.raises(DatacompError, match="no training examples"):
        train_compressor(compressor, [], TrainConfig(**TRAIN), tmp_path / "empty")


def test_sigkill_then_resume_continues_the_same_run(tiny_lm_dir, tmp_path):
    checkpoints = tmp_path / "killed"
    here = Path(__file__).parent
    env = {**os.environ, "DATACOMP_PROGRESS": "0", "OMP_NUM_THREADS": "1"}
    worker = subprocess.Popen([sys.executable, str(here / "train_worker.py"), str(tiny_lm_dir), str(checkpoints),
                               str(here)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while not (checkpoints / "LATEST").exists():
            assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
            assert time.time() < deadline, "the worker wrote no checkpoint in 120 s"
            time.sleep(0.05)
        time.sleep(0.3)  # let it run on past the checkpoint, so the kill lands mid-run
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert worker.returncode == -signal.SIGKILL
    latest = checkpoints / (checkpoints / "LATEST").read_text().strip()
    saved_step = json.loads((latest / "trainer_state.json").read_text())["step"]
    total = saved_step + 3

    resumed = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, OPTIONS)
    result = train_compressor(resumed, EXAMPLES, TrainConfig(**{**TRAIN, "steps": total}), checkpoints)
    assert result.resumed_from == saved_step

    torch.manual_seed(0)
    straight = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, OPTIONS)
    reference = train_compressor(straight, EXAMPLES, TrainConfig(**{**TRAIN, "steps": total}))
    assert result.losses == reference.losses
    _assert_same_params(_params(resumed), _params(straight))


def test_stages_resume_after_the_first_stage(tiny_lm_dir, tmp_path):
    qa = [TaskExample("q", "qa", EXAMPLES[2].context, "\n### Question:\nWhere?\n### Answer:\n", "France")]
    stages = [("continuation", EXAMPLES, TrainConfig(**{**TRAIN, "steps": 3})),
              ("qa", qa, TrainConfig(**{**TRAIN, "steps": 4}))]
    torch.manual_seed(0)
    straight = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, OPTIONS)
    reference = train_stages(straight, stages, tmp_path / "straight")
    assert [len(r.losses) for r in reference] == [3, 4]

    torch.manual_seed(0)
    first = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, OPTIONS)
    train_stages(first, stages[:1] + [("qa", qa, TrainConfig(**{**TRAIN, "steps": 2}))], tmp_path / "split")
    fresh = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, OPTIONS)
    resumed = train_stages(fresh, stages, tmp_path / "split")
    assert [r.resumed_from for r in resumed] == [3, 2]
    assert [r.losses for r in resumed] == [r.losses for r in reference]
    _assert_same_params(_params(fresh), _params(straight))


def test_gradient_accumulation_over_micro_batches_is_the_same_run(tiny_lm_dir):
    """batch 3 in micro-batches of 1 (one forward per example) and in one forward of 3: the same loss curve
    and parameters (fp32), up to float summation order. reconstruction_share 0: the objective draw would
    otherwise follow the micro-batch order."""
    options = {**OPTIONS, "reconstruction_share": 0.0}
    runs = []
    for micro in (1, 3):
        compressor = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, options)
        result = train_compressor(compressor, EXAMPLES, TrainConfig(**{**TRAIN, "batch_size": 3, "micro_batch": micro}))
        runs.append((result.losses, _params(compressor)))
    (losses_1, params_1), (losses_3, params_3) = runs
    assert losses_1 == pytest.approx(losses_3, abs=1e-5)
    for name in params_1:
        torch.testing.assert_close(params_1[name], params_3[name], atol=1e-5, rtol=1e-4)


def test_micro_batch_probe_halves_on_out_of_memory(tiny_lm_dir, monkeypatch):
    from datacomp.compressors.train import probe_micro_batch

    compressor = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, OPTIONS)
    encoded = compressor.encode(EXAMPLES * 6)
    real = type(compressor).training_loss
    tried = []

    def fits_three(self, batch):
        tried.append(len(batch))
        if len(batch) > 3:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(self, batch)

    monkeypatch.setattr(type(compressor), "training_loss", fits_three)
    assert probe_micro_batch(compressor, encoded, 12) == 3 and tried == [12, 6, 3]
    assert all(p.grad is None for p in compressor.parameters())     # the probe leaves no gradients behind

    def broken(self, batch):
        raise RuntimeError("shape mismatch")

    monkeypatch.setattr(type(compressor), "training_loss", broken)
    with pytest.raises(RuntimeError, match="shape mismatch"):      # only out-of-memory is retried
        probe_micro_batch(compressor, encoded, 12)


def test_cosine_schedule_refuses_a_resume_with_other_steps(tiny_lm_dir, tmp_path):
    compressor = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, OPTIONS)
    cosine = {**TRAIN, "steps": 2, "schedule": "cosine"}
    train_compressor(compressor, EXAMPLES, TrainConfig(**cosine), tmp_path)
    with pytest.raises(DatacompError, match="train config key 'steps' was 2 in the checkpoint, now 4"):
        train_compressor(compressor, EXAMPLES, TrainConfig(**{**cosine, "steps": 4}), tmp_path)


def test_adapter_switch_restores_each_layers_state_and_trainability(tiny_lm_dir):
    from datacomp.compressors.lora import adapters_enabled, has_lora, lora_layers

    compressor = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, {**OPTIONS, "decoder_lora": True})
    decoder = compressor.decoder
    layers = lora_layers(decoder)
    assert has_lora(decoder) and not has_lora(torch.nn.Linear(2, 2))
    layers[0].enable_adapters(False)                      # one layer off beforehand
    grads = {name: p.requires_grad for name, p in decoder.named_parameters()}
    with torch.no_grad():
        with adapters_enabled(decoder, False):
            assert all(layer.disable_adapters for layer in layers)
        with pytest.raises(RuntimeError), adapters_enabled(decoder, True):
            assert not any(layer.disable_adapters for layer in layers)
            raise RuntimeError("inside")
    assert layers[0].disable_adapters and not any(layer.disable_adapters for layer in layers[1:])
    assert {name: p.requires_grad for name, p in decoder.named_parameters()} == grads
