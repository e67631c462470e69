"""The ICAE-style autoencoder: slot count per segment (multi-span), ICAE's targets, and overfitting one
example to exact reconstruction."""

from __future__ import annotations

import math

import pytest
import torch

from datacomp.compressors.autoencoder import segment_lengths
from datacomp.compressors.batch import EncodedExample
from datacomp.compressors.example import TaskExample
from datacomp.compressors.registry import build_compressor
from datacomp.compressors.train import TrainConfig, train_compressor

TEXT = "Paris is the capital and most populous city of France"


def encoded(ids: list[int]) -> EncodedExample:
    return EncodedExample("x", "reconstruction", ids, [], [], ids + [0])


@torch.no_grad()
def test_memory_has_ceil_n_over_r_slots_in_the_decoder_space(tiny_lm_pair):
    encoder, decoder = tiny_lm_pair
    autoencoder = build_compressor("autoencoder", encoder, decoder, {"ratio": 4, "max_context_tokens": 30})
    for n in (1, 4, 5, 30):
        memory = autoencoder.compress([encoded(list(range(10, 10 + n)))])
        assert memory.n_slots(0) == math.ceil(n / 4) and memory.n_context_tokens == [n]
        assert memory.embeddings[0].shape == (math.ceil(n / 4), 32)
        assert memory.nbytes(0) == math.ceil(n / 4) * 32 * 4
    assert not any(p.requires_grad for p in autoencoder.decoder.parameters())
    trainable = {name.split(".")[0] for name, p in autoencoder.named_parameters() if p.requires_grad}
    assert trainable == {"encoder", "memory_tokens"}
    lora = {name.split(".lora_")[0].split(".")[-1] for name, p in autoencoder.encoder.named_parameters()
            if p.requires_grad}
    assert lora == {"q_proj", "v_proj"}  # peft's default targets for Llama, as ICAE


def test_icae_multi_span_segments():
    assert segment_lengths(512, 512) == [512]
    assert segment_lengths(513, 512) == [257, 256]           # ceil(n / 2) each, as ICAE's segment_length
    assert segment_lengths(1100, 512) == [367, 367, 366]


@torch.no_grad()
def test_long_contexts_are_compressed_segment_by_segment(tiny_lm_pair):
    """A context longer than one segment: each segment is encoded on its own (positions from 0), its memory
    equals that of the segment alone, and the memories are concatenated in order."""
    encoder, decoder = tiny_lm_pair
    autoencoder = build_compressor("autoencoder", encoder, decoder,
                                   {"ratio": 4, "max_context_tokens": 40, "segment_tokens": 16})
    ids = list(range(20, 60))                                 # 40 tokens: 3 segments of 14, 14, 12
    memory = autoencoder.compress([encoded(ids)])
    assert segment_lengths(40, 16) == [14, 14, 12]
    assert memory.n_slots(0) == 4 + 4 + 3 and memory.n_context_tokens == [40]
    pieces = [autoencoder.compress([encoded(ids[s:s + n])]).embeddings[0] for s, n in ((0, 14), (14, 14), (28, 12))]
    torch.testing.assert_close(memory.embeddings[0], torch.cat(pieces), atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(memory.positions[0], torch.arange(11))


@torch.no_grad()
def test_qa_evaluation_past_the_training_length_adds_segments(tiny_lm_pair):
    """Trained on 16-token contexts (16-token segments), evaluated on QA at a 48-token cap: the autoencoder
    reads all 48 tokens, each segment with its own ceil(segment / r) memory slots."""
    from datacomp.evaluation.runner import EvalSetup, encode_for_evaluation

    encoder, decoder = tiny_lm_pair
    autoencoder = build_compressor("autoencoder", encoder, decoder, {"ratio": 4, "max_context_tokens": 16})
    question = TaskExample("qa:x", "qa", " ".join([TEXT] * 4), "\n### Question:\nWhere?\n### Answer:\n", "France",
                           ("France",), question="Where?")
    setup = EvalSetup(decoder=autoencoder.decoder, tokenizer=autoencoder.tokenizer, decoder_id="d",
                      examples=[question], context_tokens=48, ratio=4.0, eval_slice="qa", compressor=autoencoder,
                      compressor_id="ae-4x", method="autoencoder")
    (row,) = encode_for_evaluation(setup)
    assert autoencoder.segment_tokens == 16 and len(row.context_ids) == 48
    assert autoencoder.compress([row]).n_slots(0) == sum(math.ceil(n / 4) for n in segment_lengths(48, 16)) == 12


def test_decoder_lora_is_opt_in(tiny_lm_dir):
    autoencoder = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, {"decoder_lora": True})
    trainable = [name for name, p in autoencoder.decoder.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)


def test_targets_reconstruction_and_icae_continuation(tiny_lm_dir):
    autoencoder = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, {"max_context_tokens": 8})
    eos = autoencoder.eos_token_id
    (rec,) = autoencoder.encode([TaskExample("r", "reconstruction", TEXT, "\nRestate the text:\n", TEXT)])
    assert len(rec.context_ids) == 8 and rec.target_ids == rec.context_ids + [eos] and rec.loss_start == 0
    (cont,) = autoencoder.encode([TaskExample("c", "continuation", TEXT, "", " and the seat of government")])
    assert cont.target_ids[-1] != eos or len(cont.target_ids) == 1    # ICAE: no eos after a continuation
    assert cont.loss_start == min(8, len(cont.target_ids) - 1)        # ICAE: leave_tokens_for_lm = 8


def test_continuation_loss_skips_the_first_tokens(tiny_lm_dir):
    autoencoder = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir,
                                   {"max_context_tokens": 16, "reconstruction_share": 0.0})
    (row,) = autoencoder.encode([TaskExample("c", "continuation", TEXT, "", " and the seat of the government")])
    with torch.no_grad():
        loss = float(autoencoder.training_loss([row]))
        from dataclasses import replace

        everything = float(autoencoder.training_loss([replace(row, loss_start=0)]))
        tail = float(autoencoder.training_loss([replace(row, target_ids=row.target_ids, loss_start=row.loss_start)]))
    assert loss == tail and loss != pytest.approx(everything)


def test_overfits_one_example_to_exact_greedy_reconstruction(steerable_lm_dir):
    autoencoder = build_compressor("autoencoder", steerable_lm_dir, steerable_lm_dir,
                                   {"ratio": 2, "max_context_tokens": 12, "encoder_training": "full"})
    example = TaskExample("r1", "reconstruction", TEXT, "\nRestate the text:\n", TEXT)
    (row,) = autoencoder.encode([example])
    wanted = row.context_ids
    before = autoencoder.predict([row], max_new_tokens=20)[0].token_ids
    assert before != wanted
    result = train_compressor(autoencoder, [example], TrainConfig(steps=120, batch_size=1, learning_rate=3e-3,
                                                                  warmup_steps=0))
    assert result.losses[-1] < result.losses[0] / 10
    prediction = autoencoder.predict([row], max_new_tokens=20)[0]
    assert prediction.token_ids == wanted       # then eos: generation stopped by itself
    assert prediction.text == autoencoder.tokenizer.decode(wanted)
    assert prediction.n_slots == 6 and prediction.n_context_tokens / prediction.n_slots == 2.0
