"""SAC pinned down: anchor formula, chunk mask, and exact equivalence with the decoder at r = 1."""

from __future__ import annotations

import pytest
import torch

from datacomp.compressors.registry import build_compressor
from datacomp.compressors.sac import anchor_positions, anchor_slots, chunk_attention_mask
from datacomp.errors import DatacompError

TEXT = "The quick brown fox jumps over the lazy dog. Paris is the capital of France."


def test_anchor_positions_match_the_formula():
    anchors = anchor_positions(510, 510, 5)
    assert len(anchors) == 102
    assert anchors[:3] == [3, 8, 13]
    assert anchors[-1] == 3 + 101 * 5
    # two chunks of 10 and a tail of 3, r = 4: floor(10/4) = 2 anchors per full chunk, none in the tail
    assert anchor_positions(23, 10, 4) == [0 + 1 + 1, 0 + 1 + 1 + 4, 10 + 1 + 1, 10 + 1 + 1 + 4]
    assert anchor_slots(23, 10, 4) == [0, 1, 0, 1]
    assert anchor_positions(7, 510, 1) == list(range(1, 8))


def test_chunk_mask_is_bidirectional_within_and_blocked_across_chunks():
    mask = chunk_attention_mask(6, 3, bidirectional=True)[0, 0]
    allowed = (mask == 0).int()
    expected = torch.tensor([
        [1, 0, 0, 0, 0, 0, 0],   # mode token sees itself
        [1, 1, 1, 1, 0, 0, 0],   # chunk 1 (context 0..2 at positions 1..3) sees sink + chunk 1
        [1, 1, 1, 1, 0, 0, 0],
        [1, 1, 1, 1, 0, 0, 0],
        [1, 0, 0, 0, 1, 1, 1],   # chunk 2 sees sink + chunk 2 only
        [1, 0, 0, 0, 1, 1, 1],
        [1, 0, 0, 0, 1, 1, 1],
    ])
    assert torch.equal(allowed, expected)
    assert mask[1, 5] == torch.finfo(torch.float32).min
    causal = (chunk_attention_mask(6, 3, bidirectional=False)[0, 0] == 0).int()
    assert torch.equal(causal, expected & torch.ones(7, 7, dtype=torch.int).tril())


def _hidden(sac, ids):
    n = ids.shape[1]
    embeds = torch.cat([sac.mode_tokens[None, :1], sac.compressor.get_input_embeddings()(ids)], dim=1)
    mask = chunk_attention_mask(n, sac.chunk_tokens, sac.config.bidirectional)
    return sac.compressor.model(inputs_embeds=embeds, attention_mask=mask,
                                position_ids=torch.arange(n + 1)[None]).last_hidden_state[0]


@torch.no_grad()
def test_perturbing_a_token_reaches_its_own_chunk_only(tiny_lm_dir):
    sac = build_compressor("sac", tiny_lm_dir, tiny_lm_dir, {"ratio": 2, "chunk_tokens": 8, "max_context_tokens": 32})
    ids = torch.arange(10, 26)[None]          # 16 tokens = chunks [0, 8) and [8, 16)
    base = _hidden(sac, ids)
    later_same_chunk = ids.clone()
    later_same_chunk[0, 6] = 99              # context index 6, chunk 0
    changed = _hidden(sac, later_same_chunk)
    assert (changed[1 + 2] - base[1 + 2]).abs().max() > 1e-4       # earlier token 2 of the same chunk moved
    other_chunk = ids.clone()
    other_chunk[0, 12] = 99                  # context index 12, chunk 1
    changed = _hidden(sac, other_chunk)
    assert torch.equal(changed[: 1 + 8], base[: 1 + 8])             # nothing in chunk 0 (or the sink) moved
    assert (changed[1 + 9] - base[1 + 9]).abs().max() > 1e-4        # but chunk 1 did


@torch.no_grad()
def test_every_token_an_anchor_with_causal_mask_equals_the_full_context_decoder(tiny_lm_dir):
    sac = build_compressor("sac", tiny_lm_dir, tiny_lm_dir,
                           {"ratio": 1, "bidirectional": False, "max_context_tokens": 48})
    assert torch.count_nonzero(sac.anchor_embeddings) == 0
    context, prompt = sac.tokenize(TEXT, 48), sac.tokenize(" Where is Paris?")
    n = context.shape[1]
    memory = sac.compress(context)
    assert memory.n_slots == n + 1 and memory.next_position == n + 1
    got = sac.decoder_forward(memory, prompt).logits
    embed = sac.decoder.get_input_embeddings()
    full = torch.cat([sac.mode_tokens[None, :1], embed(context), sac.mode_tokens[None, 1:2], embed(prompt)], 1)
    want = sac.decoder(inputs_embeds=full).logits[:, n + 1:]
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


@torch.no_grad()
def test_memory_holds_anchor_keys_and_values_and_generation_is_consistent(tiny_lm_dir):
    sac = build_compressor("sac", tiny_lm_dir, tiny_lm_dir, {"ratio": 4, "max_context_tokens": 48})
    context = sac.tokenize(TEXT, 48)
    n = context.shape[1]
    memory = sac.compress(context)
    assert memory.positions[0].tolist() == [0] + anchor_positions(n, 48, 4)
    assert memory.n_context_tokens == n
    config = sac.decoder.config
    head_dim = config.hidden_size // config.num_attention_heads
    assert memory.nbytes() == config.num_hidden_layers * 2 * config.num_key_value_heads * memory.n_slots * head_dim * 4
    prompt = sac.tokenize(" Paris")
    generated = sac.generate(memory, prompt, max_new_tokens=6, eos_token_id=None)
    ids = prompt
    for token in generated:        # the incremental decode must equal re-running the whole prompt each step
        assert int(sac.decoder_forward(memory, ids).logits[0, -1].argmax()) == token
        ids = torch.cat([ids, ids.new_tensor([[token]])], dim=1)


def test_sac_rejects_fractional_ratio(tiny_lm_dir):
    with pytest.raises(DatacompError, match="ratio must be a whole number"):
        build_compressor("sac", tiny_lm_dir, tiny_lm_dir, {"ratio": 2.5})
