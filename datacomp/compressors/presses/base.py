"""What a KV press reads and returns (see the package docstring), and the top-k rule they share."""

from __future__ import annotations

import dataclasses
from typing import Protocol

import torch


@dataclasses.dataclass
class PressInputs:
    """One example's prefill, context positions only: ``keys[layer]`` (kv_heads, n, head_dim) and, when the
    press asks for them, ``attention[layer]`` (kv_heads, n): the attention mass the press's queries put
    on each context position, summed over the queries and averaged over the query heads sharing that
    key/value head (softmax over every key the queries see, context or not)."""

    keys: list[torch.Tensor]
    attention: list[torch.Tensor] | None
    budget: int

    @property
    def n_context(self) -> int:
        return int(self.keys[0].shape[-2])

    @property
    def kv_heads(self) -> int:
        return int(self.keys[0].shape[0])


class KVPress(Protocol):
    queries: str | None

    def kept(self, inputs: PressInputs) -> torch.Tensor:
        """(layers, kv_heads, budget) context positions kept, ascending per head."""


def top_positions(scores: torch.Tensor, budget: int) -> torch.Tensor:
    """The ``budget`` highest-scoring positions along the last axis, ascending; ties keep the earlier
    position (a stable sort), so the choice never depends on the batch a row ran in."""
    order = torch.sort(scores.float(), dim=-1, descending=True, stable=True).indices
    return order[..., :budget].sort(dim=-1).values
