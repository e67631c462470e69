"""Shapes of the reference models: Llama (RoPE, RMSNorm, SwiGLU) so the code paths that serve them also
serve real Llama / Qwen / SmolLM checkpoints."""

from __future__ import annotations

import dataclasses

from datacomp.config_checks import positive
from datacomp.errors import ConfigError


@dataclasses.dataclass
class ModelShape:
    layers: int = 2  # two blocks already learn bigram-and-beyond statistics; each more costs ~linear time
    hidden: int = 128  # d=128 with 4 heads of 32: ~1M parameters in total with a 4k vocabulary
    heads: int = 4  # head size 32, the smallest that RoPE still spreads over enough frequencies
    kv_heads: int | None = None  # None = heads (plain multi-head attention); fewer = grouped-query
    context: int = 128  # long enough for a sentence or a function, short enough for CPU training
    vocab: int = 4096  # tokens of the shared BPE tokenizer; the embedding is then half the parameters
    intermediate: int | None = None  # None = SwiGLU's 8/3 * hidden rounded up to a multiple of 32
    tie_embeddings: bool = True  # input and output embedding shared: halves the largest matrix

    def __post_init__(self) -> None:
        positive(self, "layers", "hidden", "heads", "context", "vocab", "kv_heads", "intermediate")
        if self.hidden % self.heads:
            raise ConfigError("hidden", f"{self.hidden} is not divisible by {{heads}} {self.heads}", others=("heads",))
        if (self.hidden // self.heads) % 2:
            raise ConfigError("hidden", f"{self.hidden} / {{heads}} {self.heads} = head size "
                                        f"{self.hidden // self.heads}, which must be even for RoPE", others=("heads",))
        kv = self.kv_heads or self.heads
        if self.heads % kv:
            raise ConfigError("heads", f"{self.heads} is not divisible by {{kv_heads}} {kv}", others=("kv_heads",))

    @property
    def ffn(self) -> int:
        if self.intermediate:
            return self.intermediate
        return -(-(8 * self.hidden // 3) // 32) * 32


PRESETS = {
    # name: shape; "tiny" is for tests, "default" is the ~1M-parameter reference model.
    "tiny": ModelShape(layers=2, hidden=32, heads=4, context=64, vocab=300),
    "default": ModelShape(),
    "small": ModelShape(layers=4, hidden=256, heads=8, context=256, vocab=8192),
}


def llama_config(shape: ModelShape, tokenizer):
    """A ``LlamaConfig`` for ``shape`` whose vocabulary and special ids are the tokenizer's."""
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=shape.hidden, intermediate_size=shape.ffn,
        num_hidden_layers=shape.layers, num_attention_heads=shape.heads,
        num_key_value_heads=shape.kv_heads or shape.heads, max_position_embeddings=shape.context,
        rms_norm_eps=1e-5, rope_theta=10000.0, hidden_act="silu", initializer_range=0.02,
        tie_word_embeddings=shape.tie_embeddings, attention_dropout=0.0,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, architectures=["LlamaForCausalLM"],
    )


def shape_of(config) -> ModelShape:
    """The ``ModelShape`` of a Llama config (the inverse of ``llama_config`` up to the tokenizer's ids); fields
    at their derived defaults stay None, as in the shape that made the config."""
    shape = ModelShape(layers=config.num_hidden_layers, hidden=config.hidden_size, heads=config.num_attention_heads,
                       context=config.max_position_embeddings, vocab=config.vocab_size,
                       tie_embeddings=bool(config.tie_word_embeddings))
    kv_heads = config.num_key_value_heads
    return dataclasses.replace(shape, kv_heads=None if kv_heads == shape.heads else kv_heads,
                               intermediate=None if config.intermediate_size == shape.ffn else config.intermediate_size)
