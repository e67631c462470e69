"""COMI's coarse and fine stages (the official rules), the batched module (query = the question's own
tokens, one-layer block adapter) and meanpool as COMI with every coefficient 0."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from datacomp.compressors.comi import default_encoder_layers
from datacomp.compressors.comi_groups import (
    comi_slots,
    equal_group_sizes,
    fine_merge,
    fine_weights,
    fixed_group_sizes,
    largest_remainder,
    official_group_sizes,
    query_cosines,
)
from datacomp.compressors.example import TaskExample
from datacomp.compressors.registry import build_compressor
from datacomp.errors import DatacompError

C = 1 / math.sqrt(2)


# ---- references written from the official description (padded tensors, as modeling_comi.py) ---------
def padded_reference_sizes(hidden, query, r, alpha, beta):
    """Coarse stage with fixed groups as one (G, r) view padded with -inf; sizes with zeros kept."""
    n = hidden.shape[0]
    g = math.ceil(n / r)
    rel = F.normalize(hidden, dim=1) @ F.normalize(query, dim=0)
    rel_groups, best = F.pad(rel, (0, g * r - n), value=-math.inf).view(g, r).max(dim=1)
    reps = F.normalize(hidden[torch.arange(g) * r + best], dim=1)
    sim = reps @ reps.T
    sim.fill_diagonal_(-math.inf)
    quotas = n * torch.softmax(-(alpha * rel_groups - beta * sim.max(dim=1).values), dim=0)
    return largest_remainder(quotas.tolist(), n)


def zero_padded_reference_merge(hidden, query, sizes, alpha, beta):
    """Fine stage on groups zero-padded to the longest one (the official clip comes from those zeros)."""
    width = max(sizes)
    groups = torch.zeros(len(sizes), width, hidden.shape[1])
    mask = torch.zeros(len(sizes), width, dtype=torch.bool)
    for g, piece in enumerate(torch.split(hidden, sizes)):
        groups[g, :len(piece)], mask[g, :len(piece)] = piece, True
    normed = F.normalize(groups, dim=-1)
    sim = normed @ normed.transpose(1, 2)
    sim.diagonal(dim1=-2, dim2=-1).fill_(-math.inf)
    sim.masked_fill_(~mask[:, None, :].expand(-1, width, -1), 0)
    red = sim.max(dim=-1).values
    red = red.masked_fill(red == -math.inf, 0.0)
    scores = (alpha * (normed @ F.normalize(query, dim=0)) - beta * red).masked_fill(~mask, -math.inf)
    return (torch.softmax(scores, dim=-1)[..., None] * groups).sum(dim=1)


# ---- coarse stage -------------------------------------------------------------------------------------
def test_fixed_initial_groups_and_largest_remainder():
    assert fixed_group_sizes(10, 4) == [4, 4, 2]          # fixed size r, the last one short
    assert fixed_group_sizes(8, 4) == [4, 4]
    assert fixed_group_sizes(3, 4) == [3]
    assert fixed_group_sizes(5, 1.5) == [1, 2, 1, 1]      # non-integer r: bounds floor(g r)
    assert largest_remainder([2.5, 1.2, 3.3], 7) == [3, 1, 3]
    assert largest_remainder([1.5, 1.5, 1.0], 4) == [2, 1, 1]   # tie to the earlier group
    assert largest_remainder([0.0002, 4.9999, 4.9999], 10) == [0, 5, 5]


def test_official_group_sizes_by_hand():
    # n = 6, r = 2: groups {0,1} {2,3} {4,5}, q = (1, 0). Representatives (1,0) rel 1, (1,1) rel C,
    # (0,1) rel 0; their pairwise cosines C, 0, C -> redundancy C each. scores = [1 - C, 0, -C];
    # quotas = 6 softmax(-scores) = [1.186, 1.590, 3.224]; floors [1, 1, 3] leave 1 token for the
    # largest fraction (0.590): [1, 2, 3]
    hidden = torch.tensor([[1.0, 0], [0, 1], [1, 1], [-1, 0], [-1, 1], [0, 1]])
    query = torch.tensor([1.0, 0])
    cos_q = query_cosines(hidden, query)
    assert official_group_sizes(cos_q, hidden, 2, 1.0, 1.0) == [1, 2, 3]
    # an empty group is dropped: n = 10, r = 4, relevance [1, 0, 0], alpha 10, beta 0 -> scores [10, 0, 0],
    # quotas [0.0002, 4.9999, 4.9999] -> floors [0, 4, 4] + 1 to the two largest fractions -> [0, 5, 5]
    hidden = torch.tensor([[1.0, 0]] * 4 + [[0, 1.0]] * 6)
    assert official_group_sizes(query_cosines(hidden, query), hidden, 4, 10.0, 0.0) == [5, 5]
    # one initial group (n <= r): a single group of n
    assert official_group_sizes(query_cosines(hidden[:3], query), hidden[:3], 4, 1.0, 1.0) == [3]


def test_official_group_sizes_match_the_padded_fixed_group_reference():
    torch.manual_seed(0)
    for n, r in [(37, 4), (10, 4), (100, 16), (9, 2), (64, 8)]:
        hidden, query = torch.randn(n, 8), torch.randn(8)
        for alpha, beta in [(1.0, 1.0), (3.0, 0.5), (0.0, 2.0)]:
            got = official_group_sizes(query_cosines(hidden, query), hidden, r, alpha, beta)
            expected = padded_reference_sizes(hidden.double(), query.double(), r, alpha, beta)
            assert got == [s for s in expected if s > 0]
            assert sum(got) == n and len(got) <= math.ceil(n / r)


def test_zero_coefficients_give_near_equal_groups_not_the_initial_ones():
    torch.manual_seed(3)
    hidden, query = torch.randn(70, 6), torch.randn(6)
    cos_q = query_cosines(hidden, query)
    for n, r in [(23, 4), (10, 4), (9, 4), (64, 16), (70, 16), (9, 1.5)]:
        sizes = official_group_sizes(cos_q[:n], hidden[:n], r, 0.0, 0.0)
        assert sizes == equal_group_sizes(n, math.ceil(n / r))
    assert official_group_sizes(cos_q[:10], hidden[:10], 4, 0.0, 0.0) == [4, 3, 3] != fixed_group_sizes(10, 4)


# ---- fine stage ---------------------------------------------------------------------------------------
def test_fine_merge_official_clip_and_exact():
    torch.manual_seed(1)
    hidden, query = torch.randn(12, 5), torch.randn(5)
    cos_q = query_cosines(hidden, query)
    sizes = [4, 1, 3, 2, 2]
    torch.testing.assert_close(fine_merge(cos_q, hidden, sizes, 1.0, 0.7, "official"),
                               zero_padded_reference_merge(hidden, query, sizes, 1.0, 0.7))
    by_hand = []   # exact: softmax(alpha cos(h_i, q) - beta max_{j != i} cos(h_i, h_j)), no clip
    for piece in torch.split(hidden, sizes):
        normed = F.normalize(piece, dim=-1)
        rel = normed @ F.normalize(query, dim=0)
        red = torch.tensor([max([float(normed[i] @ normed[j]) for j in range(len(piece)) if j != i], default=0.0)
                            for i in range(len(piece))])
        by_hand.append(torch.softmax(rel - 0.7 * red, dim=0) @ piece)
    torch.testing.assert_close(fine_merge(cos_q, hidden, sizes, 1.0, 0.7, "exact"), torch.stack(by_hand))
    # the clip: a 3-token group at angles 0, 120, 200 degrees (max other cosines [-0.5, cos 80, cos 80]) in
    # a row whose longest group has 4 tokens: official clips -0.5 to 0, exact keeps it; alpha 0, beta 1
    angles = torch.tensor([0.0, 30, 60, 90, 0, 120, 200]) * math.pi / 180
    hidden = torch.stack([angles.cos(), angles.sin()], dim=1)
    cos_q = query_cosines(hidden, torch.tensor([1.0, 0.0]))
    official, _, _ = fine_weights(cos_q, hidden, [4, 3], 0.0, 1.0, "official")
    exact, _, _ = fine_weights(cos_q, hidden, [4, 3], 0.0, 1.0, "exact")
    c80 = math.cos(80 * math.pi / 180)
    torch.testing.assert_close(official[1, :3], torch.softmax(-torch.tensor([0.0, c80, c80]), 0))
    torch.testing.assert_close(exact[1, :3], torch.softmax(-torch.tensor([-0.5, c80, c80]), 0))
    torch.testing.assert_close(official[0], exact[0])                      # the longest group is never clipped
    assert float(official[1, 3]) == float(exact[1, 3]) == 0.0              # padding has weight 0
    assert torch.equal(fine_weights(cos_q, hidden, [1, 4], 1.0, 1.0)[0][0], torch.tensor([1.0, 0, 0, 0]))


def test_separate_select_and_merge_coefficients():
    torch.manual_seed(2)
    hidden, query = torch.randn(23, 6), torch.randn(6)
    cos_q = query_cosines(hidden, query)
    slots, sizes = comi_slots(hidden, query, 4, 1.0, 1.0, 0.0, 0.0)      # coarse on, fine uniform
    assert sizes == official_group_sizes(cos_q, hidden, 4, 1.0, 1.0) and sizes != equal_group_sizes(23, 6)
    torch.testing.assert_close(slots, torch.stack([g.mean(0) for g in torch.split(hidden, sizes)]))
    slots, sizes = comi_slots(hidden, query, 4, 0.0, 0.0, 1.0, 1.0)      # coarse uniform, fine on
    assert sizes == equal_group_sizes(23, 6)
    torch.testing.assert_close(slots, fine_merge(cos_q, hidden, sizes, 1.0, 1.0))
    assert not torch.allclose(slots, torch.stack([g.mean(0) for g in torch.split(hidden, sizes)]))


# ---- the module ---------------------------------------------------------------------------------------
CONTEXT = "The quick brown fox jumps over the lazy dog. Paris is the capital of France."


def qa(question: str, template: str = "\n### Question:\n{q}\n### Answer:\n") -> TaskExample:
    return TaskExample("x", "qa", CONTEXT, template.format(q=question), "Paris", ("Paris",), question=question)


@torch.no_grad()
def test_query_is_the_question_tokens_only(tiny_lm_pair):
    comi = build_compressor("comi", *tiny_lm_pair, {"ratio": 4, "max_context_tokens": 48,
                                                   "prompt_format": "plain"})
    base, retemplated, other = comi.encode([qa("Where is Paris?"), qa("Where is Paris?", "Q: {q} A:"),
                                            qa("What jumps?")])
    assert base.prompt_ids != retemplated.prompt_ids and base.query_ids == retemplated.query_ids
    memory = comi.compress([base, retemplated, other])
    torch.testing.assert_close(memory.embeddings[0], memory.embeddings[1], atol=0, rtol=0)
    assert not torch.allclose(memory.embeddings[0], memory.embeddings[2])
    # q = mean of the question tokens' states over [context, question]; no question: mean of the context
    n, m = len(base.context_ids), len(base.query_ids)
    states = comi.encoder(input_ids=torch.tensor([base.context_ids + base.query_ids])).last_hidden_state[0]
    (context,), (query,) = comi.encode_batch([base])
    torch.testing.assert_close(context, states[:n])
    torch.testing.assert_close(query, states[n:n + m].mean(0))
    import dataclasses
    (context,), (query,) = comi.encode_batch([dataclasses.replace(base, query_ids=[])])
    torch.testing.assert_close(query, context.mean(0))


@torch.no_grad()
def test_block_adapter_is_layer_0_and_the_final_norm(tiny_lm_pair):
    from transformers import AutoModelForCausalLM

    encoder, decoder = tiny_lm_pair
    comi = build_compressor("comi", encoder, decoder, {"ratio": 4, "max_context_tokens": 48, "encoder_layers": 2})
    assert comi.config.adapter == "block" and comi.projection is None
    names = {name.split(".", 1)[1] for name, _ in comi.named_parameters() if name.startswith("adapter.")}
    assert names == {name for name in names if name.startswith("layers.0.")} | {"norm.weight"}
    assert "norm.weight" in names and all(p.requires_grad for p in comi.adapter.parameters())
    assert len(comi.adapter.layers) == 1 and len(comi.encoder.layers) == 2
    one_layer = AutoModelForCausalLM.from_pretrained(str(encoder), num_hidden_layers=1).model
    example = comi.encode([qa("Where is Paris?")])
    (slots,), (sizes,) = comi.slots(example)
    assert len(sizes) <= math.ceil(len(example[0].context_ids) / 4) and sum(sizes) == len(example[0].context_ids)
    expected = one_layer(inputs_embeds=slots[None]).last_hidden_state[0]    # default causal mask, positions 0..
    torch.testing.assert_close(comi.compress(example).embeddings[0], expected, atol=1e-6, rtol=1e-5)


def test_linear_adapter_option_and_config_errors(tiny_lm_pair, tmp_path):
    from datacomp.compressors.registry import load_compressor, save_compressor

    encoder, decoder = tiny_lm_pair
    comi = build_compressor("comi", encoder, decoder, {"adapter": "linear", "max_context_tokens": 48})
    assert torch.equal(comi.adapter.weight, torch.eye(comi.adapter.weight.shape[0]))
    block = build_compressor("comi", encoder, decoder, {"max_context_tokens": 48})
    with torch.no_grad():
        block.adapter.layers[0].mlp.down_proj.weight.add_(0.1)
    example = block.encode([qa("Where is Paris?")])
    save_compressor(block, tmp_path)
    with torch.no_grad():
        torch.testing.assert_close(load_compressor(tmp_path).compress(example).embeddings[0],
                                   block.compress(example).embeddings[0], atol=0, rtol=0)
    assert len(build_compressor("comi", encoder, decoder).encoder.layers) == 1   # round(2 * 8 / 28) -> 1
    assert [default_encoder_layers(n) for n in (1, 2, 28, 30)] == [1, 1, 8, 9]
    for options, message in [({"encoder_layers": 3}, "encoder_layers must be in 1..2"),
                             ({"adapter": "mlp"}, "adapter must be one of 'block', 'linear', got 'mlp'"),
                             ({"fine_redundancy": "clip"}, "fine_redundancy must be")]:
        with pytest.raises(DatacompError, match=message):
            build_compressor("comi", encoder, decoder, options)
    with pytest.raises(DatacompError, match="beta_merge must be 0 for meanpool, got 1.0"):
        build_compressor("meanpool", encoder, decoder, {"beta_merge": 1.0})


def test_learned_coefficients_are_parameters(tiny_lm_pair):
    comi = build_compressor("comi", *tiny_lm_pair, {"learn_alpha_beta": True, "max_context_tokens": 48})
    params = dict(comi.named_parameters())
    assert all(params[name].requires_grad for name in ("alpha_select", "beta_select", "alpha_merge", "beta_merge"))
    fixed = build_compressor("comi", *tiny_lm_pair, {"max_context_tokens": 48})
    assert "alpha_merge" in dict(fixed.named_buffers()) and "alpha_merge" not in dict(fixed.named_parameters())
    comi.training_loss(comi.encode([qa("Where is Paris?")])).backward()
    assert params["alpha_merge"].grad is not None and params["alpha_select"].grad is None  # sizes are discrete


@torch.no_grad()
def test_meanpool_is_comi_with_zero_coefficients(tiny_lm_pair):
    encoder, decoder = tiny_lm_pair
    options = {"ratio": 4, "max_context_tokens": 48}
    meanpool = build_compressor("meanpool", encoder, decoder, options)
    zeros = {name: 0.0 for name in ("alpha_select", "beta_select", "alpha_merge", "beta_merge")}
    comi0 = build_compressor("comi", encoder, decoder, {**options, **zeros})
    batch = meanpool.encode([qa("Where is Paris?"), qa("What jumps?")])
    got = meanpool.compress(batch)
    for row, expected in enumerate(comi0.compress(batch).embeddings):
        torch.testing.assert_close(got.embeddings[row], expected, atol=0, rtol=0)
    n = len(batch[0].context_ids)
    (_, _), (sizes, _) = meanpool.slots(batch)
    assert sizes == equal_group_sizes(n, math.ceil(n / 4)) and got.n_slots(0) == math.ceil(n / 4)
    contexts, _ = meanpool.encode_batch(batch[:1])
    means = torch.stack([g.mean(0) for g in torch.split(contexts[0], sizes)])
    torch.testing.assert_close(got.embeddings[0], meanpool.adapt([means])[0], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(got.embeddings[0], got.embeddings[1])   # the question does not matter to meanpool
