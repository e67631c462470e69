"""The shared interface of every compressor (kvpress style: a dataclass config + one module per method).

A compressor turns a context into a ``Memory`` - either soft embeddings in the decoder's input space
(autoencoder, COMI) or per-layer key/value slots with their global positions (SAC) - and a frozen (or
LoRA-tuned) decoder reads that Memory followed by a prompt. Training, checkpoints, evaluation and the
store are shared code; a new method is one file plus one line in ``REGISTRY`` (see registry.py).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch


@dataclasses.dataclass
class Memory:
    """What the decoder receives instead of the context tokens.

    Exactly one of ``embeddings`` (batch, slots, hidden) or ``past_key_values`` (a transformers Cache
    holding, per layer, keys and values at ``slots`` positions) is set. ``positions`` (batch, slots) are
    the position ids the slots occupy; the decoder's own tokens start at ``next_position``.
    """

    n_context_tokens: int
    positions: torch.Tensor
    next_position: int
    embeddings: torch.Tensor | None = None
    past_key_values: Any = None

    @property
    def n_slots(self) -> int:
        return int(self.positions.shape[-1])

    @property
    def ratio(self) -> float:
        """Compression ratio r = context tokens / slots (tokens counted with the decoder's tokenizer)."""
        return self.n_context_tokens / max(self.n_slots, 1)

    def nbytes(self) -> int:
        """Bytes handed to the decoder (embeddings, or every layer's key and value tensors)."""
        if self.embeddings is not None:
            return self.embeddings.numel() * self.embeddings.element_size()
        total = 0
        for layer in _cache_layers(self.past_key_values):
            for tensor in layer:
                total += tensor.numel() * tensor.element_size()
        return total


def _cache_layers(cache: Any):
    """(key, value) per layer from a transformers Cache or a legacy tuple."""
    if cache is None:
        return []
    if hasattr(cache, "layers"):
        return [(layer.keys, layer.values) for layer in cache.layers]
    return [(k, v) for k, v in cache]


@dataclasses.dataclass
class CompressorConfig:
    """Fields every method shares; each method subclasses it with its own (documented) defaults."""

    ratio: float = 4.0          # target compression ratio r (context tokens per slot)
    max_context_tokens: int = 128  # contexts are truncated to this many decoder tokens before compressing
    seed: int = 0


class Compressor(torch.nn.Module):
    """Base class. Subclasses set ``method`` and ``config_class`` and implement compress / decoder_forward.

    Shared contract:
    - ``compress(context_ids, query_ids=None) -> Memory``: context_ids is (1, n) LongTensor of the
      decoder tokenizer's ids; query-aware methods (COMI) also read query_ids (1, q).
    - ``decoder_forward(memory, input_ids, labels=None)``: run the decoder on [memory, input_ids] and
      return the transformers output (logits for input_ids' positions, loss if labels given).
    - ``generate(memory, prompt_ids, max_new_tokens)``: greedy decoding, shared here.
    - ``training_loss(example)``: the method's training objective on one TaskExample.
    """

    method: ClassVar[str] = ""
    config_class: ClassVar[type[CompressorConfig]] = CompressorConfig

    def compress(self, context_ids: torch.Tensor, query_ids: torch.Tensor | None = None) -> Memory:
        raise NotImplementedError

    def decoder_forward(self, memory: Memory, input_ids: torch.Tensor, labels: torch.Tensor | None = None):
        raise NotImplementedError

    def training_loss(self, example) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def generate(self, memory: Memory, prompt_ids: torch.Tensor, max_new_tokens: int = 32,
                 eos_token_id: int | None = None) -> list[int]:
        """Greedy decoding after [memory, prompt]. Simple and exact (no cache reuse across steps by
        default; methods may override with an incremental version that gives the same tokens)."""
        generated: list[int] = []
        ids = prompt_ids
        for _ in range(max_new_tokens):
            logits = self.decoder_forward(memory, ids).logits[:, -1, :]
            next_id = int(logits.argmax(dim=-1).item())
            if eos_token_id is not None and next_id == eos_token_id:
                break
            generated.append(next_id)
            ids = torch.cat([ids, ids.new_tensor([[next_id]])], dim=1)
        return generated
