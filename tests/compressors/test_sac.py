"""SAC pinned down: the official anchor formula, the chunk mask, the decoder's positions, exact equivalence
with the plain decoder at r = 1, and the pretraining objective (mean of the AE and LM losses)."""

from __future__ import annotations

import pytest
import torch

from datacomp.compressors.decoding import Prefix, cache_from_layers, teacher_forced_nll
from datacomp.compressors.example import TaskExample
from datacomp.compressors.registry import build_compressor
from datacomp.compressors.sac import anchor_positions, chunk_anchor_positions, chunk_attention_mask
from datacomp.errors import DatacompError

TEXT = "The quick brown fox jumps over the lazy dog. Paris is the capital of France."
QA = TaskExample("q", "qa", TEXT, "\n### Question:\nWhere is Paris?\n### Answer:\n", "France", ("France",))


def continuation(i: int, context: str = TEXT) -> TaskExample:
    return TaskExample(f"c{i}", "continuation", context[: 40 + 10 * i], "", " and so on" * (i + 1))


def test_anchor_positions_follow_the_official_formula():
    five = chunk_anchor_positions(512, 510, 5)
    assert [len(c) for c in five] == [102, 1] and len(anchor_positions(512, 510, 5)) == 103
    assert five[0][:2] == [3, 8] and five[0][-1] == 508
    assert five[1] == [511]                   # tail [510, 512): start 511 + 2 = 513 >= 513, falls back to 511
    four = chunk_anchor_positions(512, 510, 4)
    assert [len(c) for c in four] == [128, 1] and len(anchor_positions(512, 510, 4)) == 129
    assert four[0][0] == 2 and four[1] == [512]  # tail: start 511 + 1 = 512 < 513
    assert chunk_anchor_positions(21, 10, 4) == [[2, 6, 10], [12, 16, 20], [21]]  # one-token tail: fallback
    assert anchor_positions(7, 510, 1) == list(range(1, 8))


def test_chunk_mask_is_bidirectional_within_a_chunk_and_blocks_padding():
    mask = chunk_attention_mask([3, 2], bidirectional=True)
    assert mask.shape == (2, 1, 3, 3)
    allowed = (mask[:, 0] == 0).int()
    assert torch.equal(allowed[0], torch.ones(3, 3, dtype=torch.int))
    assert torch.equal(allowed[1], torch.tensor([[1, 1, 0], [1, 1, 0], [1, 1, 1]]))  # padding query sees itself
    assert mask[1, 0, 0, 2] == torch.finfo(torch.float32).min
    causal = (chunk_attention_mask([3, 2], bidirectional=False)[:, 0] == 0).int()
    assert torch.equal(causal[0], torch.ones(3, 3, dtype=torch.int).tril())
    assert torch.equal(causal[1], torch.tensor([[1, 0, 0], [1, 1, 0], [1, 1, 1]]))
    sink = (chunk_attention_mask([2], bidirectional=True, sink=True)[0, 0] == 0).int()
    assert torch.equal(sink, torch.tensor([[1, 0, 0], [1, 1, 1], [1, 1, 1]]))  # the sink sees itself only
    assert chunk_attention_mask([2], dtype=torch.float16).dtype == torch.float16


@torch.no_grad()
def test_a_token_reaches_its_own_chunk_only(tiny_lm_dir):
    sac = build_compressor("sac", tiny_lm_dir, tiny_lm_dir, {"ratio": 2, "chunk_tokens": 16,
                                                             "max_context_tokens": 48})
    head = len(sac.input_head)              # BOS + "### Context:\n"
    assert head < 15
    base_example = sac.encode([continuation(0)])[0]
    context = list(range(10, 10 + 48 - head))   # input of 48 tokens = chunks [0, 16), [16, 32), [32, 48)
    example = dataclass_replace(base_example, context_ids=context)
    per_chunk = chunk_anchor_positions(48, 16, 2)
    n0 = len(per_chunk[0])

    def keys(ids):
        # the last layer's keys (layer 0's keys see only their own token)
        return sac.compress([dataclass_replace(example, context_ids=ids)]).cache[0][-1][0]

    base = keys(context)
    same_chunk = list(context)
    same_chunk[15 - head] = 99                 # input index 15: the last token of chunk 0
    changed = keys(same_chunk)
    assert (changed[:, 0] - base[:, 0]).abs().max() > 1e-5  # the first anchor (BOS, position 1) saw it: bidirectional
    other_chunk = list(context)
    other_chunk[20 - head] = 99                # input index 20, chunk 1
    changed = keys(other_chunk)
    assert torch.equal(changed[:, :n0], base[:, :n0])     # chunk 0's anchors did not move
    assert (changed[:, n0] - base[:, n0]).abs().max() > 1e-5
    assert torch.equal(changed[:, -len(per_chunk[2]):], base[:, -len(per_chunk[2]):])  # nor chunk 2's


def dataclass_replace(example, **changes):
    import dataclasses

    return dataclasses.replace(example, **changes)


@torch.no_grad()
def test_memory_layout_and_decoder_positions(tiny_lm_dir):
    sac = build_compressor("sac", tiny_lm_dir, tiny_lm_dir, {"ratio": 4, "max_context_tokens": 48,
                                                                "prompt_format": "plain"})
    example = sac.encode([QA])[0]
    ids = sac.input_ids(example)
    assert ids[0] == sac.tokenizer.bos_token_id and ids[len(sac.input_head):] == example.context_ids
    big_l = len(ids)
    memory = sac.compress([example])
    assert memory.positions[0].tolist() == anchor_positions(big_l, 510, 4)
    assert memory.next_position == [big_l] and memory.n_context_tokens == [len(example.context_ids)]
    head = len(sac.input_head)   # anchors over BOS + "### Context:" stand for no context token
    assert memory.overhead_slots == [sum(1 for p in anchor_positions(big_l, 510, 4) if p <= head)]
    assert memory.context_slots(0) == memory.n_slots(0) - memory.overhead_slots[0]
    assert memory.ratio(0) == len(example.context_ids) / memory.context_slots(0)
    config = sac.decoder.config
    head_dim = config.hidden_size // config.num_attention_heads
    slots = memory.n_slots(0)
    assert memory.cache[0][0][0].shape == (config.num_key_value_heads, slots, head_dim)
    assert memory.nbytes(0) == config.num_hidden_layers * 2 * config.num_key_value_heads * slots * head_dim * 4
    prefix = sac.decoder_prefix(memory, [example])
    assert prefix.positions[0].tolist() == [big_l] and prefix.next_position == [big_l + 1]  # [LM] at L, prompt L+1..
    torch.testing.assert_close(prefix.embeds[0], sac.special_tokens[1:2])
    ae = sac.autoencoding_prefix(memory, [0])
    assert ae.positions[0].tolist() == [0] and ae.next_position == [1]
    torch.testing.assert_close(ae.embeds[0], sac.special_tokens[0:1])
    assert sac.autoencoding_target(example) == ids + [sac.tokenizer.eos_token_id]

    sink = build_compressor("sac", tiny_lm_dir, tiny_lm_dir, {"ratio": 4, "max_context_tokens": 48,
                                                              "keep_sink": True})
    with_sink = sink.compress([example])
    assert with_sink.positions[0].tolist() == [0] + anchor_positions(big_l, 510, 4)


@torch.no_grad()
def test_keep_first_token_hands_over_the_bos_key_values_without_a_role_embedding(tiny_lm_dir):
    options = {"ratio": 4, "max_context_tokens": 48}
    plain = build_compressor("sac", tiny_lm_dir, tiny_lm_dir, options)
    first = build_compressor("sac", tiny_lm_dir, tiny_lm_dir, {**options, "keep_first_token": True})
    first.load_trainable_state_dict(plain.trainable_state_dict())
    example = plain.encode([QA])[0]
    big_l = len(plain.input_ids(example))
    with_first, without = first.compress([example]), plain.compress([example])
    assert with_first.positions[0].tolist() == [1] + anchor_positions(big_l, 510, 4)
    assert with_first.n_slots(0) == without.n_slots(0) + 1
    assert with_first.overhead_slots == [without.overhead_slots[0] + 1]     # the sink is overhead
    for (k1, v1), (k2, v2) in zip(with_first.cache[0], without.cache[0]):
        torch.testing.assert_close(k1[:, 1:], k2)           # the anchors are unchanged
        torch.testing.assert_close(v1[:, 1:], v2)
    # the first slot is BOS's own K/V: what a plain causal pass over the input gives at position 1 (layer 0
    # keys depend only on the token and its position, the role embeddings are not added to it)
    from datacomp.compressors.decoding import cache_layers, model_kwargs_cache, output_cache
    from transformers import DynamicCache

    ids = torch.tensor([plain.input_ids(example)[:1]])
    out = first.compressor.model(input_ids=ids, position_ids=torch.tensor([[1]]), use_cache=True,
                                 **model_kwargs_cache(DynamicCache()))
    torch.testing.assert_close(with_first.cache[0][0][0][:, :1], cache_layers(output_cache(out))[0][0][0])


def test_new_parameters_are_initialised_as_the_official_code(tiny_lm_dir):
    sac = build_compressor("sac", tiny_lm_dir, tiny_lm_dir, {"ratio": 2, "max_context_tokens": 64})
    anchors = sac.anchor_embeddings.detach()
    assert anchors.shape[0] == len(chunk_anchor_positions(510, 510, 2)[0]) == 255   # a full chunk's anchors
    assert float(anchors.std()) == pytest.approx(0.02, abs=0.002) and abs(float(anchors.mean())) < 0.002
    weight = sac.decoder.get_input_embeddings().weight.detach()
    assert sac.special_tokens.shape == (2, weight.shape[1])
    assert {name for name, p in sac.named_parameters() if p.requires_grad and "lora_" not in name} == \
        {"anchor_embeddings", "special_tokens"}
    assert not any(p.requires_grad for p in sac.decoder.parameters())


@torch.no_grad()
def test_every_token_an_anchor_with_causal_mask_equals_the_plain_decoder(tiny_lm_dir):
    sac = build_compressor("sac", tiny_lm_dir, tiny_lm_dir,
                           {"ratio": 1, "bidirectional": False, "keep_sink": False, "max_context_tokens": 48,
                            "prompt_format": "plain"})
    example = sac.encode([QA])[0]
    ids = torch.tensor(sac.input_ids(example))
    prompt = torch.tensor(example.prompt_ids)
    big_l, n_prompt = len(ids), len(prompt)
    memory = sac.compress([example])
    assert memory.n_slots(0) == big_l
    prefix = sac.decoder_prefix(memory, [example])
    embed = sac.decoder.get_input_embeddings()
    cache = cache_from_layers([(k[None], v[None]) for k, v in prefix.cache[0]])
    tail = torch.cat([prefix.embeds[0], embed(prompt)])[None]
    tail_positions = torch.cat([prefix.positions[0], torch.arange(big_l + 1, big_l + 1 + n_prompt)])[None]
    got = sac.decoder(inputs_embeds=tail, position_ids=tail_positions, cache=cache).logits
    tokens = embed(ids) + sac.anchor_embeddings[:big_l]       # anchor j = input token j at r = 1
    full = torch.cat([tokens, sac.special_tokens[1:2], embed(prompt)])[None]
    positions = torch.cat([torch.arange(1, big_l + 1), torch.tensor([big_l]),
                           torch.arange(big_l + 1, big_l + 1 + n_prompt)])[None]
    want = sac.decoder(inputs_embeds=full, position_ids=positions).logits[:, big_l:]
    assert got.shape == want.shape == (1, 1 + n_prompt, sac.decoder.config.vocab_size)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


@torch.no_grad()
def test_pretraining_loss_is_the_mean_of_the_ae_and_lm_losses(tiny_lm_dir):
    sac = build_compressor("sac", tiny_lm_dir, tiny_lm_dir, {"ratio": 4, "max_context_tokens": 48})
    batch = sac.encode([continuation(0), QA, continuation(1)])
    memory = sac.compress(batch)
    lm = teacher_forced_nll(sac.decoder, sac.decoder_prefix(memory, batch), [e.prompt_ids for e in batch],
                            [e.target_ids for e in batch], [e.loss_start for e in batch])
    rows = [0, 2]
    ae_prefix = Prefix([sac.special_tokens[0:1]] * 2, [torch.tensor([0])] * 2, [1, 1],
                       cache=[memory.cache[r] for r in rows])
    ae = teacher_forced_nll(sac.decoder, ae_prefix, [[], []],
                            [sac.input_ids(batch[r]) + [sac.tokenizer.eos_token_id] for r in rows])
    want = torch.stack([(lm[0] + ae[0]) / 2, lm[1], (lm[2] + ae[1]) / 2]).mean()
    assert float(sac.training_loss(batch)) == pytest.approx(float(want), abs=1e-6)
    lm_only = build_compressor("sac", tiny_lm_dir, tiny_lm_dir, {"ratio": 4, "max_context_tokens": 48,
                                                                 "pretrain_objective": "lm"})
    assert float(lm_only.training_loss(batch)) == pytest.approx(float(lm.mean()), abs=1e-6)


def test_sac_rejects_fractional_ratio_and_unknown_objective(tiny_lm_dir):
    with pytest.raises(DatacompError, match="ratio must be a whole number"):
        build_compressor("sac", tiny_lm_dir, tiny_lm_dir, {"ratio": 2.5})
    with pytest.raises(DatacompError, match="pretrain_objective"):
        build_compressor("sac", tiny_lm_dir, tiny_lm_dir, {"pretrain_objective": "ae"})


def official_anchor_count(n_input_tokens: int, chunk_tokens: int, ratio: int) -> int:
    """METHODS.md section 2, restated: per chunk [s, e) the positions arange(s + 1 + (r-1)//2, e + 1, r), from
    s + 1 instead when that start is past the chunk's end."""
    count = 0
    for s in range(0, n_input_tokens, chunk_tokens):
        e = min(s + chunk_tokens, n_input_tokens)
        start = s + 1 + (ratio - 1) // 2
        count += len(range(start if start < e + 1 else s + 1, e + 1, ratio))
    return count


@torch.no_grad()
def test_sac_reads_a_qa_context_past_its_training_length_in_chunks(store, tiny_lm_dir):
    """Trained on 16-token contexts with 16-token chunks, evaluated on QA at a 48-token cap: SAC reads all
    48 tokens in chunks and hands over every chunk's anchors (the official count); truncate gets that budget."""
    from datacomp.evaluation.runner import EvalConfig, EvalSetup, encode_for_evaluation, run_evaluation

    sac = build_compressor("sac", tiny_lm_dir, tiny_lm_dir, {"ratio": 4, "chunk_tokens": 16, "max_context_tokens": 16})
    long_qa = dataclass_replace(QA, context=TEXT + " " + TEXT + " " + TEXT, example_id="qa:long")
    setup = EvalSetup(decoder=sac.decoder, tokenizer=sac.tokenizer, decoder_id="tiny", examples=[long_qa],
                      context_tokens=48, ratio=4.0, eval_slice="qa", compressor=sac, compressor_id="sac-4x",
                      method="sac")
    (encoded,) = encode_for_evaluation(setup)
    assert len(encoded.context_ids) == 48 and len(sac.encode([long_qa])[0].context_ids) == 16
    n_input = len(sac.input_head) + 48
    assert n_input > 3 * 16                                               # four chunks, the last one short
    memory = sac.compress([encoded])
    assert memory.n_slots(0) == official_anchor_count(n_input, 16, 4) == len(anchor_positions(n_input, 16, 4))
    assert memory.positions[0].tolist()[-1] <= n_input and memory.next_position == [n_input]
    run_evaluation(store, EvalConfig(compressor="sac-4x", task="qa", baselines=("truncate",), max_new_tokens=2), setup)
    rows = dict(store.con.execute("SELECT system, n_slots FROM evaluations").fetchall())
    assert rows == {"sac-4x": memory.context_slots(0), "truncate": memory.context_slots(0)}
