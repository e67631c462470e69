"""COMI's coarse and fine stages as pure functions, and meanpool as COMI at alpha = beta = 0."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from datacomp.compressors.comi import (
    comi_slots,
    default_encoder_layers,
    equal_group_sizes,
    group_mig,
    largest_remainder,
    merge_groups,
    merge_weights,
    reallocated_group_sizes,
)
from datacomp.compressors.registry import build_compressor
from datacomp.errors import DatacompError

TEXT = "The quick brown fox jumps over the lazy dog. Paris is the capital of France."


def test_equal_groups_and_largest_remainder():
    assert equal_group_sizes(10, 3) == [4, 3, 3]
    assert equal_group_sizes(8, 4) == [2, 2, 2, 2]
    assert largest_remainder([2.5, 1.2, 3.3], 7) == [3, 1, 3]       # .5 beats .3 and .2
    assert largest_remainder([1.5, 1.5, 1.0], 4) == [2, 1, 1]       # tie goes to the earlier group
    assert largest_remainder([10 / 3] * 3, 10) == [4, 3, 3]


def test_reallocated_sizes_sum_to_n_keep_g_groups_and_shrink_high_mig_groups():
    torch.manual_seed(0)
    for n, ratio in [(37, 4), (100, 16), (5, 4), (64, 1.5)]:
        n_groups = math.ceil(n / ratio)
        mig = torch.randn(n_groups) * 3
        sizes = reallocated_group_sizes(mig, n)
        assert len(sizes) == n_groups and sum(sizes) == n and min(sizes) >= 1
    sizes = reallocated_group_sizes(torch.tensor([2.0, 0.0, -2.0]), 30)
    assert sizes[0] < sizes[1] < sizes[2]
    # by hand: 1 each + 27 * softmax(-mig) = 27 * [0.0159, 0.1173, 0.8668] = [0.43, 3.17, 23.40];
    # floors [0, 3, 23] leave 1 token, which goes to the largest fraction (0.43)
    assert sizes == [1 + 1, 1 + 3, 1 + 23]
    assert reallocated_group_sizes(torch.zeros(3), 10) == equal_group_sizes(10, 3)


def test_group_mig_by_hand():
    query = torch.tensor([1.0, 0.0])
    hidden = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])
    mig = group_mig(hidden, query, [2, 2], alpha=1.0, beta=0.5)
    # group 0: representative token 0 (cos 1); group 1: token 2 (cos 1/sqrt 2); cos(rep0, rep1) = 1/sqrt 2
    c = 1 / math.sqrt(2)
    torch.testing.assert_close(mig, torch.tensor([1 - 0.5 * c, c - 0.5 * c]))


def test_merge_weights_sum_to_one_and_follow_the_formula():
    torch.manual_seed(0)
    group, query = torch.randn(5, 8), torch.randn(8)
    weights = merge_weights(group, query, 1.0, 1.0)
    assert weights.sum().item() == pytest.approx(1.0, abs=1e-6)
    relevance = F.cosine_similarity(group, query[None], dim=-1)
    normed = F.normalize(group, dim=-1)
    redundancy = torch.tensor([max(float(normed[i] @ normed[j]) for j in range(5) if j != i) for i in range(5)])
    torch.testing.assert_close(weights, torch.softmax(relevance - redundancy, dim=0))
    assert torch.equal(merge_weights(group[:1], query, 1.0, 1.0), torch.ones(1))
    uniform = merge_weights(group, query, 0.0, 0.0)
    torch.testing.assert_close(uniform, torch.full((5,), 0.2))
    hidden = torch.randn(9, 4)
    slots = merge_groups(hidden, query[:4], [4, 1, 3, 1], 1.0, 0.7)
    by_hand = [merge_weights(g, query[:4], 1.0, 0.7) @ g for g in torch.split(hidden, [4, 1, 3, 1])]
    torch.testing.assert_close(slots, torch.stack(by_hand))


def test_comi_slots_count_and_alpha_beta_zero_is_mean_pooling():
    torch.manual_seed(1)
    hidden, query = torch.randn(23, 6), torch.randn(6)
    slots, sizes = comi_slots(hidden, query, 4, 1.0, 1.0)
    assert slots.shape == (math.ceil(23 / 4), 6) and sum(sizes) == 23
    pooled, sizes = comi_slots(hidden, query, 4, 0.0, 0.0)
    assert sizes == [4, 4, 4, 4, 4, 3]
    torch.testing.assert_close(pooled, torch.stack([g.mean(0) for g in torch.split(hidden, sizes)]))


@torch.no_grad()
def test_meanpool_equals_comi_at_zero_and_a_hand_mean(tiny_lm_pair):
    encoder, decoder = tiny_lm_pair
    options = {"ratio": 4, "max_context_tokens": 48}
    meanpool = build_compressor("meanpool", encoder, decoder, options)
    comi0 = build_compressor("comi", encoder, decoder, {**options, "alpha": 0.0, "beta": 0.0})
    comi = build_compressor("comi", encoder, decoder, options)
    context, query = meanpool.tokenize(TEXT, 48), meanpool.tokenize(" Where is Paris?")
    n = context.shape[1]
    got = meanpool.compress(context, query)
    assert got.n_slots == math.ceil(n / 4) and got.n_context_tokens == n
    torch.testing.assert_close(got.embeddings, comi0.compress(context, query).embeddings, atol=0, rtol=0)
    hidden = meanpool.encoder(input_ids=torch.cat([context, query], 1)).last_hidden_state[0, :n]
    means = torch.stack([g.mean(0) for g in torch.split(hidden, equal_group_sizes(n, got.n_slots))])
    torch.testing.assert_close(got.embeddings[0], meanpool.adapter(means), atol=1e-6, rtol=1e-5)
    # the query matters to COMI proper, not to meanpool
    other = meanpool.tokenize(" What jumps?")
    assert not torch.allclose(comi.compress(context, query).embeddings, comi.compress(context, other).embeddings)
    torch.testing.assert_close(meanpool.compress(context, other).embeddings, got.embeddings)


def test_comi_encoder_is_the_first_layers(tiny_lm_pair):
    encoder, decoder = tiny_lm_pair
    comi = build_compressor("comi", encoder, decoder, {"encoder_layers": 2})
    assert len(comi.encoder.layers) == 2
    assert len(build_compressor("comi", encoder, decoder).encoder.layers) == 1   # default: round(2 * 8 / 28) -> 1
    assert [default_encoder_layers(n) for n in (1, 2, 28, 30)] == [1, 1, 8, 9]
    with pytest.raises(DatacompError, match="encoder_layers must be in 1..2"):
        build_compressor("comi", encoder, decoder, {"encoder_layers": 3})
    with pytest.raises(DatacompError, match="meanpool config fields alpha and beta must be 0"):
        build_compressor("meanpool", encoder, decoder, {"alpha": 1.0})


def test_block_adapter_is_a_copy_of_the_next_layer_and_round_trips(tiny_lm_pair, tmp_path):
    from datacomp.compressors.registry import load_compressor, save_compressor

    encoder, decoder = tiny_lm_pair
    comi = build_compressor("comi", encoder, decoder, {"adapter": "block", "ratio": 4, "max_context_tokens": 40})
    source = build_compressor("comi", encoder, decoder, {"encoder_layers": 2})
    torch.testing.assert_close(comi.adapter_block.mlp.up_proj.weight, source.encoder.layers[1].mlp.up_proj.weight)
    assert comi.adapter_block.mlp.up_proj.weight.requires_grad
    context, query = comi.tokenize(TEXT, 40), comi.tokenize(" Where is Paris?")
    with torch.no_grad():
        memory = comi.compress(context, query)
        comi.adapter_block.mlp.down_proj.weight.add_(0.1)
        moved = comi.compress(context, query)
    assert memory.n_slots == math.ceil(context.shape[1] / 4)
    assert not torch.allclose(memory.embeddings, moved.embeddings)   # the block is on the path
    save_compressor(comi, tmp_path)
    with torch.no_grad():
        torch.testing.assert_close(load_compressor(tmp_path).compress(context, query).embeddings, moved.embeddings,
                                   atol=0, rtol=0)
    with pytest.raises(DatacompError, match="adapter must be 'linear' or 'block'"):
        build_compressor("comi", encoder, decoder, {"adapter": "mlp"})
