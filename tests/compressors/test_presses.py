"""KV presses: which context positions each keeps, against hand computations on tiny tensors and against
attention weights read from an independent eager forward of a tiny Llama; full budget == full context;
batched == one by one."""

import pytest
import torch
import torch.nn.functional as F

from datacomp.compressors.decoding import nll_and_greedy, pressed_prefix, token_prefix
from datacomp.compressors.presses import PRESSES, PressInputs, get_press


def keys_with_norms(norms):
    """(layers, heads, n) norms -> keys (heads, n, 4) per layer whose L2 norms are exactly those."""
    return [torch.tensor(layer, dtype=torch.float32)[..., None] * torch.tensor([0.5, 0.5, 0.5, 0.5])
            for layer in norms]


def test_streamingllm_keeps_four_sinks_and_the_recent_window():
    inputs = PressInputs(keys_with_norms([[[1.0] * 10] * 2]), None, budget=6)
    kept = get_press("streamingllm").kept(inputs)
    assert kept.tolist() == [[[0, 1, 2, 3, 8, 9]] * 2]
    assert get_press("streamingllm").kept(PressInputs(inputs.keys, None, 3)).tolist() == [[[0, 1, 2]] * 2]


def test_knorm_keeps_the_lowest_key_norms_per_layer_and_head():
    norms = [[[5, 1, 4, 2, 3], [1, 9, 9, 1, 9]],       # layer 0: head 0, head 1
             [[2, 2, 2, 2, 0.5], [3, 2, 1, 4, 5]]]     # layer 1 (a tie among 2s: the earlier position)
    kept = get_press("knorm").kept(PressInputs(keys_with_norms(norms), None, budget=2))
    assert kept.tolist() == [[[1, 3], [0, 3]], [[0, 4], [1, 2]]]


def test_snapkv_pools_the_window_attention_with_kernel_five_then_keeps_the_top():
    attention = [torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.9]])]     # one layer, one kv head
    # avg pool, kernel 5, zero padding counted: position i averages i-2..i+2
    # -> [.2, .2, .2, .2, .2, .18, .18, .18]; top 3 with ties to the earlier: 0, 1, 2
    kept = get_press("snapkv").kept(PressInputs(keys_with_norms([[[1.0] * 8]]), attention, budget=3))
    assert kept.tolist() == [[[0, 1, 2]]]
    peaked = [torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]])]
    # pooled: [0, 0, 0, 0, .2, .4, .4, .4] -> 5, 6, 7 (unpooled, the third would be position 0)
    assert get_press("snapkv").kept(PressInputs(keys_with_norms([[[1.0] * 8]]), peaked, 3)).tolist() == [[[5, 6, 7]]]


def test_tova_averages_the_heads_of_a_layer_and_keeps_the_same_positions_in_each():
    attention = [torch.tensor([[0.1, 0.5, 0.1, 0.3], [0.6, 0.0, 0.1, 0.3]])]   # mean [.35, .25, .1, .3]
    kept = get_press("tova").kept(PressInputs(keys_with_norms([[[1.0] * 4] * 2]), attention, budget=2))
    assert kept.tolist() == [[[0, 3], [0, 3]]]


@pytest.fixture(scope="module")
def tiny(tiny_lm_dir):
    from datacomp.models.loading import load_causal_lm

    model, tokenizer = load_causal_lm(tiny_lm_dir)
    eager, _ = load_causal_lm(tiny_lm_dir, attn_implementation="eager")
    return model.requires_grad_(False), eager.requires_grad_(False), tokenizer


def rows(tokenizer):
    contexts = ["The quick brown fox jumps over the lazy dog. The quick brown fox",
                "Paris is the capital and most populous city of France",
                "To be, or not to be, that is the question"]
    prompts = ["\nQuestion: what jumps?", "\nQ: which city?", "\nQuestion: what is it?"]
    targets = [" fox", " Paris", " the question"]
    encode = lambda texts: [tokenizer(t, add_special_tokens=False).input_ids for t in texts]  # noqa: E731
    return encode(contexts), encode(prompts), encode(targets)


def eager_scores(eager, ids, columns, context):
    """Per layer (kv_heads, n): the attention of query ``columns`` on the ``context`` key columns, summed
    over the queries and averaged over each kv head's query heads, from HF's own eager attention."""
    out = eager(input_ids=torch.tensor([ids]), output_attentions=True)
    kv_heads = eager.config.num_key_value_heads
    scores = []
    for weights in out.attentions:
        picked = weights[0][:, columns][:, :, context].sum(dim=1)                    # (heads, n)
        scores.append(picked.reshape(kv_heads, -1, picked.shape[-1]).mean(dim=1))
    return scores


def top(scores, budget):
    return torch.sort(scores, dim=-1, descending=True, stable=True).indices[..., :budget].sort(dim=-1).values


def test_attention_presses_keep_what_the_eager_attention_weights_say(tiny):
    model, eager, tokenizer = tiny
    contexts, prompts, _ = rows(tokenizer)
    bos, context, prompt, budget = tokenizer.bos_token_id, contexts[0], prompts[0], 5
    span = list(range(1, 1 + len(context)))
    _, kept = pressed_prefix(model, [context], bos, [[]], [prompt], get_press("snapkv"), [budget])
    full = [bos] + context + prompt
    window = list(range(len(full) - len(prompt), len(full)))                      # the prompt is < 64 tokens
    for layer, scores in enumerate(eager_scores(eager, full, window, span)):
        pooled = F.avg_pool1d(scores[:, None], kernel_size=5, stride=1, padding=2)[:, 0]
        assert kept[0][layer].tolist() == top(pooled, budget).tolist()
    _, kept = pressed_prefix(model, [context], bos, [[]], [prompt], get_press("tova"), [budget])
    for layer, scores in enumerate(eager_scores(eager, [bos] + context, [len(context)], span)):
        expected = top(scores.mean(dim=0), budget).tolist()
        assert kept[0][layer].tolist() == [expected] * scores.shape[0]


def test_knorm_reads_the_prefill_keys_and_the_cache_holds_the_kept_slots(tiny):
    model, _, tokenizer = tiny
    contexts, prompts, _ = rows(tokenizer)
    bos, context, preamble, budget = tokenizer.bos_token_id, contexts[1], [5, 6], 4
    prefix, kept = pressed_prefix(model, [context], bos, [preamble], [prompts[1]], get_press("knorm"), [budget])
    out = model(input_ids=torch.tensor([[bos] + preamble + context]), use_cache=True)
    head = 1 + len(preamble)
    for layer, cached in enumerate(out.cache.layers):
        keys = cached.keys[0, :, head:]                                          # (kv_heads, n, d) context keys
        assert kept[0][layer].tolist() == top(-keys.norm(dim=-1), budget).tolist()
        index = kept[0][layer][..., None].expand(-1, -1, keys.shape[-1])
        expected = torch.cat([cached.keys[0, :, :head], keys.gather(1, index)], dim=1)
        assert torch.allclose(prefix.cache[0][layer][0], expected, atol=1e-6)   # start + preamble + kept slots
    assert prefix.next_position == [head + len(context)]                        # the prompt keeps its positions


@pytest.mark.parametrize("name", list(PRESSES))
def test_a_press_keeping_everything_is_the_full_context(tiny, name):
    model, _, tokenizer = tiny
    contexts, prompts, targets = rows(tokenizer)
    bos = tokenizer.bos_token_id
    preambles = [[], [7, 8, 9], []]
    full_nll, full_ids = nll_and_greedy(model, token_prefix(model, contexts, bos, preambles), prompts, targets, 4,
                                        tokenizer.eos_token_id)
    prefix, kept = pressed_prefix(model, contexts, bos, preambles, prompts, get_press(name), [len(c) for c in contexts])
    nll, ids = nll_and_greedy(model, prefix, prompts, targets, 4, tokenizer.eos_token_id)
    assert [k.shape[-1] for k in kept] == [len(c) for c in contexts]
    assert nll == pytest.approx(full_nll, abs=1e-5) and ids == full_ids


@pytest.mark.parametrize("name", list(PRESSES))
def test_batched_equals_one_by_one(tiny, name):
    model, _, tokenizer = tiny
    contexts, prompts, targets = rows(tokenizer)
    bos, press, budgets = tokenizer.bos_token_id, get_press(name), [5, 3, 4]
    preambles = [[], [7, 8], [9]]
    prefix, kept = pressed_prefix(model, contexts, bos, preambles, prompts, press, budgets)
    nll, ids = nll_and_greedy(model, prefix, prompts, targets, 4, tokenizer.eos_token_id)
    for row in range(3):
        alone, kept_alone = pressed_prefix(model, contexts[row:row + 1], bos, preambles[row:row + 1],
                                           prompts[row:row + 1], press, budgets[row:row + 1])
        nll_alone, ids_alone = nll_and_greedy(model, alone, prompts[row:row + 1], targets[row:row + 1], 4,
                                              tokenizer.eos_token_id)
        assert torch.equal(kept[row], kept_alone[0])
        assert nll[row] == pytest.approx(nll_alone[0], abs=1e-5) and ids[row] == ids_alone[0]


def test_the_probe_restores_the_attention_implementation(tiny):
    model, _, tokenizer = tiny
    contexts, prompts, _ = rows(tokenizer)
    before = model.config._attn_implementation
    pressed_prefix(model, contexts[:1], tokenizer.bos_token_id, [[]], prompts[:1], get_press("snapkv"), [3])
    assert model.config._attn_implementation == before
