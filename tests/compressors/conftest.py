"""Fixtures of the compressor tests: one CPU thread (the machine is shared), a steerable tiny decoder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread_here(one_torch_thread):
    """Every test here runs with one torch thread (tests/conftest.py says why)."""


@pytest.fixture(scope="session")
def steerable_lm_dir(tiny_lm_dir, tmp_path_factory):
    """A tiny random Llama (hidden 64, weights std 0.2) with tiny_lm_dir's tokenizer.

    With the usual std 0.02 a random frozen decoder's logits are nearly uniform and cannot be steered by
    any soft prompt (loss stays at ln(vocab)); larger weights give it sharp attention and peaked logits,
    standing in for a pretrained decoder in the autoencoder's overfitting test."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("steerable_lm")
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_lm_dir))
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                         initializer_range=0.2, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
