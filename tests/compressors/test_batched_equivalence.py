"""Every registered method, fp32: a batch of examples of different lengths gives the same loss and
gradients as the mean of the examples one at a time (1e-5), and the same memory, target NLL and greedy
tokens per row as each example alone."""

from __future__ import annotations

import pytest
import torch

from datacomp.compressors.example import TaskExample
from datacomp.compressors.registry import REGISTRY, build_compressor

CONTEXTS = ["Paris is the capital of France", "The Nile is a river", "def add(a, b): return a + b"]
QUESTIONS = ["Which city?", "Where?", "What returns?"]
ANSWERS = ["Paris", "northeastern Africa", "a + b"]


def examples(task: str) -> list[TaskExample]:
    out = []
    for i, (context, question, answer) in enumerate(zip(CONTEXTS, QUESTIONS, ANSWERS)):
        if task == "qa":
            prompt = f"\n### Question:\n{question}\n### Answer:\n"
            out.append(TaskExample(f"q{i}", "qa", context, prompt, answer, (answer,), question=question))
        else:
            out.append(TaskExample(f"c{i}", "continuation", context, "", " and so on " * (i + 1)))
    return out


def build(method: str, encoder, decoder):
    config = {"ratio": 4, "max_context_tokens": 24, "max_target_tokens": 6}
    if method == "autoencoder":
        config["reconstruction_share"] = 0.0
    compressor = build_compressor(method, encoder, decoder, config)
    with torch.no_grad():  # move every trained parameter off its neutral init, so all of them matter
        generator = torch.Generator().manual_seed(0)
        for parameter in compressor.parameters():
            if parameter.requires_grad:
                parameter.add_(0.05 * torch.randn(parameter.shape, generator=generator))
    return compressor


def gradients(compressor) -> dict[str, torch.Tensor]:
    return {name: p.grad.clone() for name, p in compressor.named_parameters()
            if p.requires_grad and p.grad is not None}


@pytest.mark.parametrize("task", ["qa", "continuation"])
@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_batched_loss_and_gradients_equal_the_mean_of_single_examples(method, task, tiny_lm_pair):
    compressor = build(method, *tiny_lm_pair)
    encoded = compressor.encode(examples(task))
    assert len({len(e.context_ids) for e in encoded}) == 3  # three different lengths in one batch
    compressor.zero_grad()
    batched = compressor.training_loss(encoded)
    batched.backward()
    batched_grads = gradients(compressor)
    compressor.zero_grad()
    singles = []
    for example in encoded:
        loss = compressor.training_loss([example]) / len(encoded)
        loss.backward()
        singles.append(float(loss.detach()) * len(encoded))
    single_grads = gradients(compressor)
    assert float(batched.detach()) == pytest.approx(sum(singles) / len(singles), abs=1e-5)
    assert batched_grads.keys() == single_grads.keys() and batched_grads
    for name, grad in batched_grads.items():
        torch.testing.assert_close(grad, single_grads[name], atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("method", sorted(REGISTRY))
@torch.no_grad()
def test_batched_predictions_equal_single_predictions(method, tiny_lm_pair):
    compressor = build(method, *tiny_lm_pair).eval()
    encoded = compressor.encode(examples("qa"))
    batched = compressor.predict(encoded, max_new_tokens=6)
    for example, together in zip(encoded, batched):
        alone = compressor.predict([example], max_new_tokens=6)[0]
        assert together.token_ids == alone.token_ids
        assert together.target_nll == pytest.approx(alone.target_nll, abs=1e-5)
        assert (together.n_slots, together.memory_bytes) == (alone.n_slots, alone.memory_bytes)
    memory_together = compressor.compress(encoded)
    for row, example in enumerate(encoded):
        memory_alone = compressor.compress([example])
        torch.testing.assert_close(memory_together.positions[row], memory_alone.positions[0])
        if memory_alone.embeddings is not None:
            torch.testing.assert_close(memory_together.embeddings[row], memory_alone.embeddings[0],
                                       atol=1e-5, rtol=1e-5)
        else:
            for (k1, v1), (k2, v2) in zip(memory_together.cache[row], memory_alone.cache[0]):
                torch.testing.assert_close(k1, k2, atol=1e-5, rtol=1e-5)
                torch.testing.assert_close(v1, v2, atol=1e-5, rtol=1e-5)
