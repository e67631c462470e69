"""TOVA (Oren et al. 2024, "Transformers are Multi-State RNNs"): keep the tokens the current (last) query
attends to most, the attention averaged over all heads of a layer, so a layer keeps the same positions
in every head. TOVA evicts one token per step while it reads; applied once after the prefill, as a
press, the current query is the last context token (query-agnostic: the question is not read)."""

from __future__ import annotations

import dataclasses

import torch

from datacomp.compressors.presses.base import PressInputs, top_positions


@dataclasses.dataclass
class TOVA:
    queries: str | None = "last_context"

    def kept(self, inputs: PressInputs) -> torch.Tensor:
        if inputs.attention is None:
            raise ValueError("TOVA needs the last context token's attention")
        per_layer = torch.stack([attention.float().mean(dim=0) for attention in inputs.attention])  # (layers, n)
        kept = top_positions(per_layer, min(inputs.budget, inputs.n_context))
        return kept[:, None, :].expand(-1, inputs.kv_heads, -1).clone()
