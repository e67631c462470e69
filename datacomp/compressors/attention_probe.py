"""The attention a few query columns pay every key, recorded during one forward: what the attention-based
KV presses (SnapKV's observation window, TOVA's last token) score context positions by.

transformers 5 computes attention in a pluggable function (``AttentionInterface``). ``sdpa`` does not
return the weights, and ``eager`` would materialise every layer's full (queries x keys) matrix (for
SmolLM2-135M at 2048 tokens: 30 layers x 9 heads x 2048^2 floats, 4.5 GB), so while a probe is active the
model runs a registered function that computes the attention output with the model's own implementation
(sdpa when that is eager: the same softmax) and, beside it, softmax(q k^T * scaling + mask) for the probed
columns only, in fp32. The probe's weights are summed over its columns (each row counts only its valid
ones) and averaged over the query heads that share a key/value head: (batch, kv_heads, keys) per layer.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from typing import Iterator

import torch

PROBE_NAME = "datacomp_attention_probe"
_ACTIVE: list["AttentionProbe"] = []   # the probe of the forward now running (innermost last)


@dataclasses.dataclass
class AttentionProbe:
    columns: torch.Tensor          # (W,) query columns of the forward's input
    valid: torch.Tensor            # (B, W) bool: which of those columns count for each row
    delegate: str = "sdpa"         # the attention implementation that computes the output
    recorded: dict[int, torch.Tensor] = dataclasses.field(default_factory=dict)

    def record(self, layer: int, query: torch.Tensor, key: torch.Tensor, mask: torch.Tensor | None,
               scaling: float) -> None:
        batch, q_heads, _, dim = query.shape
        kv_heads, n_keys = key.shape[1], key.shape[2]
        columns = self.columns.to(query.device)
        probed = query[:, :, columns].float().reshape(batch, kv_heads, q_heads // kv_heads, len(columns), dim)
        logits = torch.einsum("bhgwd,bhkd->bhgwk", probed, key.float()) * scaling
        if mask is not None:
            logits = logits + mask[:, 0, columns, :n_keys].float()[:, None, None]
        weights = logits.softmax(dim=-1) * self.valid.to(query.device).float()[:, None, None, :, None]
        self.recorded[layer] = weights.sum(dim=3).mean(dim=2)


def _probed_attention(module, query, key, value, attention_mask, scaling=None, **kwargs):
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    probe = _ACTIVE[-1]
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    probe.record(module.layer_idx, query, key, attention_mask, scale)
    return ALL_ATTENTION_FUNCTIONS[probe.delegate](module, query, key, value, attention_mask, scaling=scaling,
                                                   **kwargs)


@contextmanager
def probing(decoder, probe: AttentionProbe) -> Iterator[AttentionProbe]:
    """Run ``decoder`` with ``probe`` recording each layer's attention; the model's own attention
    implementation is restored afterwards (also when the forward raises)."""
    from transformers import AttentionInterface
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    AttentionInterface.register(PROBE_NAME, _probed_attention)
    previous = decoder.config._attn_implementation
    probe.delegate = previous if previous in ALL_ATTENTION_FUNCTIONS and previous != PROBE_NAME else "sdpa"
    decoder.set_attn_implementation(PROBE_NAME)
    _ACTIVE.append(probe)
    try:
        yield probe
    finally:
        _ACTIVE.pop()
        decoder.set_attn_implementation(previous)
