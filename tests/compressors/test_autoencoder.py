"""The ICAE-style autoencoder: slot count, objective mix, and overfitting one example to exact reconstruction."""

from __future__ import annotations

import math

import torch

from datacomp.compressors.example import TaskExample
from datacomp.compressors.registry import build_compressor
from datacomp.compressors.train import TrainConfig, train_compressor

TEXT = "Paris is the capital and most populous city of France"


@torch.no_grad()
def test_memory_has_ceil_n_over_r_slots_in_the_decoder_space(tiny_lm_pair):
    encoder, decoder = tiny_lm_pair
    autoencoder = build_compressor("autoencoder", encoder, decoder, {"ratio": 4, "max_context_tokens": 30})
    for n in (1, 4, 5, 30):
        memory = autoencoder.compress(torch.arange(10, 10 + n)[None])
        assert memory.n_slots == math.ceil(n / 4) and memory.n_context_tokens == n
        assert memory.embeddings.shape == (1, math.ceil(n / 4), 32)
        assert memory.nbytes() == math.ceil(n / 4) * 32 * 4
    assert not any(p.requires_grad for p in autoencoder.decoder.parameters())
    trainable = {name.split(".")[0] for name, p in autoencoder.named_parameters() if p.requires_grad}
    assert trainable == {"encoder", "memory_tokens"}
    assert all("lora_" in name for name, p in autoencoder.encoder.named_parameters() if p.requires_grad)


def test_decoder_lora_is_opt_in(tiny_lm_dir):
    autoencoder = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, {"decoder_lora": True})
    trainable = [name for name, p in autoencoder.decoder.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)


def test_reconstruction_target_is_the_truncated_context(tiny_lm_dir):
    autoencoder = build_compressor("autoencoder", tiny_lm_dir, tiny_lm_dir, {"max_context_tokens": 8})
    encoded = autoencoder.encode_example(TaskExample("r", "reconstruction", TEXT, "\nRestate the text:\n", TEXT))
    assert encoded.context_ids.shape[1] == 8
    assert encoded.target_ids[0].tolist() == encoded.context_ids[0].tolist() + [autoencoder.eos_token_id]


def test_overfits_one_example_to_exact_greedy_reconstruction(steerable_lm_dir):
    autoencoder = build_compressor("autoencoder", steerable_lm_dir, steerable_lm_dir,
                                   {"ratio": 2, "max_context_tokens": 12, "encoder_training": "full"})
    example = TaskExample("r1", "reconstruction", TEXT, "\nRestate the text:\n", TEXT)
    wanted = autoencoder.encode_example(example).context_ids[0].tolist()
    before = autoencoder.predict(example, max_new_tokens=20).token_ids
    assert before != wanted
    result = train_compressor(autoencoder, [example], TrainConfig(steps=120, batch_size=1, learning_rate=3e-3,
                                                                  warmup_steps=0))
    assert result.losses[-1] < result.losses[0] / 10
    prediction = autoencoder.predict(example, max_new_tokens=20)
    assert prediction.token_ids == wanted       # then eos: generation stopped by itself
    assert prediction.text == autoencoder.tokenizer.decode(wanted)
    assert prediction.memory.n_slots == 6 and prediction.memory.ratio == 2.0
