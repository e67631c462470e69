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


@pytest.mark.slow
@torch.no_grad()
def test_sac_every_token_an_anchor_equals_the_decoder(smollm2_dir):
    from datacomp.compressors.decoding import cache_from_layers

    sac = build_compressor("sac", smollm2_dir, smollm2_dir, {"ratio": 1, "bidirectional": False,
                                                             "max_context_tokens": 64})
    example = sac.encode([EXAMPLE])[0]
    ids, prompt = torch.tensor(sac.input_ids(example)), torch.tensor(example.prompt_ids)
    big_l, n_prompt = len(ids), len(prompt)
    prefix = sac.decoder_prefix(sac.compress([example]), [example])
    embed = sac.decoder.get_input_embeddings()
    cache = cache_from_layers([(k[None], v[None]) for k, v in prefix.cache[0]])
    after = torch.arange(big_l + 1, big_l + 1 + n_prompt)
    got = sac.decoder(inputs_embeds=torch.cat([prefix.embeds[0], embed(prompt)])[None],
                      position_ids=torch.cat([prefix.positions[0], after])[None], cache=cache).logits
    full = torch.cat([embed(ids) + sac.anchor_embeddings[:big_l], sac.special_tokens[1:2], embed(prompt)])[None]
    positions = torch.cat([torch.arange(1, big_l + 1), torch.tensor([big_l]), after])[None]
    want = sac.decoder(inputs_embeds=full, position_ids=positions).logits[:, big_l:]
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_every_method_runs_on_smollm2(method, smollm2_dir):
    compressor = build_compressor(method, smollm2_dir, smollm2_dir, {"ratio": 4, "max_context_tokens": 64})
    encoded = compressor.encode([EXAMPLE])
    loss = compressor.training_loss(encoded)
    loss.backward()
    assert math.isfinite(float(loss))
    assert all(torch.isfinite(p.grad).all() for p in compressor.parameters() if p.grad is not None)
    with torch.no_grad():
        prediction = compressor.predict(encoded, max_new_tokens=4)[0]
    n = prediction.n_context_tokens
    if method == "sac":   # anchors over the context (those over BOS + the chat preamble are overhead), chunks of 510
        from datacomp.compressors.sac import anchor_positions

        ids = compressor.input_ids(encoded[0])
        head = len(ids) - len(encoded[0].context_ids)
        expected = sum(1 for p in anchor_positions(len(ids), 510, 4) if p - 1 >= head)
    else:
        expected = math.ceil(n / 4)
    assert prediction.n_slots == expected
    assert prediction.token_ids and prediction.memory_bytes > 0
