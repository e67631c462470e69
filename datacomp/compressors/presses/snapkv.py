"""SnapKV (Li et al. 2024, "SnapKV: LLM Knows What You are Looking for Before Generation"): the last
``window`` tokens of the prompt (the observation window; here the end of the question prompt, all of it
when shorter) are prefilled after the context; each context position is scored per layer and key/value
head by the attention the window's queries pay it (summed over the window, averaged over the query heads
of a group), the scores are smoothed by a 1-D average pool over ``kernel`` neighbouring positions
(stride 1, zero padding counted, as the released code's ``avg_pool1d``) so that kept tokens come with
their neighbours, and the ``budget`` top positions stay. The released defaults: window 64, kernel 5.
The paper also keeps the window's own KV; here the prompt is re-read over the pressed cache instead
(presses/__init__.py), so the budget is the context positions kept."""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F

from datacomp.compressors.presses.base import PressInputs, top_positions


@dataclasses.dataclass
class SnapKV:
    window: int = 64
    kernel: int = 5
    queries: str | None = "prompt"

    def kept(self, inputs: PressInputs) -> torch.Tensor:
        if inputs.attention is None:
            raise ValueError("SnapKV needs the observation window's attention")
        scores = torch.stack(inputs.attention).float()                          # (layers, heads, n)
        layers, heads, n = scores.shape
        pooled = F.avg_pool1d(scores.reshape(layers * heads, 1, n), kernel_size=self.kernel, stride=1,
                              padding=self.kernel // 2).reshape(layers, heads, -1)[..., :n]
        return top_positions(pooled, min(inputs.budget, n))
