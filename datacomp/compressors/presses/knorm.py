"""KNorm (Devoto et al. 2024, "A Simple and Effective L2 Norm-Based Strategy for KV Cache Compression"):
keep the keys of lowest L2 norm, which the paper finds draw the most attention. Chosen per layer and per
key/value head (each head keeps its own ``budget`` positions), as the paper scores each head's keys; the
cached keys carry RoPE, a rotation of coordinate pairs, so their norms are those of the raw keys."""

from __future__ import annotations

import dataclasses

import torch

from datacomp.compressors.presses.base import PressInputs, top_positions


@dataclasses.dataclass
class KNorm:
    queries: str | None = None

    def kept(self, inputs: PressInputs) -> torch.Tensor:
        norms = torch.stack([keys.float().norm(dim=-1) for keys in inputs.keys])   # (layers, heads, n)
        return top_positions(-norms, min(inputs.budget, inputs.n_context))
