"""StreamingLLM (Xiao et al. 2024, "Efficient Streaming Language Models with Attention Sinks"): keep the
first tokens (the attention sinks; the paper keeps 4) and a window of the most recent ones, the same
positions in every layer and head. Here the sinks are the first ``sink_tokens`` context positions (the
start token and preamble before them are kept by the engine anyway) and the window is the last
``budget - sinks`` context positions; a budget below ``sink_tokens`` keeps sinks only."""

from __future__ import annotations

import dataclasses

import torch

from datacomp.compressors.presses.base import PressInputs


@dataclasses.dataclass
class StreamingLLM:
    sink_tokens: int = 4
    queries: str | None = None

    def kept(self, inputs: PressInputs) -> torch.Tensor:
        n, budget = inputs.n_context, min(inputs.budget, inputs.n_context)
        sinks = min(self.sink_tokens, budget)
        positions = list(range(sinks)) + list(range(n - (budget - sinks), n))
        row = torch.tensor(positions, dtype=torch.long)
        return row.expand(len(inputs.keys), inputs.kv_heads, budget).clone()
