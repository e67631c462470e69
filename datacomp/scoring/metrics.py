"""Per-token metrics as pure functions of logits, and their per-document aggregation.

All functions take logits of shape (..., V) in any dtype and compute in float32: the logits are
upcast before ``log_softmax``, so a model running in bfloat16 still gets float32 normalisation and
float32 sums over the vocabulary. Everything is in nats; ``bits_per_byte`` converts.

- surprisal  s_t = -log p(x_t | x_<t)                      (cross-entropy of the actual next token)
- entropy    H_t = -sum_v p(v | x_<t) log p(v | x_<t)      (predictive entropy, 0 <= H_t <= ln V)
- KL(p||q)   sum_v p(v) (log p(v) - log q(v))               (per token, p = encoder, q = decoder)
- JS(p, q)   KL(p||m)/2 + KL(q||m)/2 with m = (p + q)/2     (symmetric, 0 <= JS <= ln 2)

Terms with p(v) = 0 contribute 0 (the limit of p log p), so vocabularies with masked (-inf) logits
give finite values.
"""

from __future__ import annotations

import math

import torch

LN2 = math.log(2.0)


def log_probs(logits: torch.Tensor) -> torch.Tensor:
    """log_softmax over the last axis, in float32 whatever the logits' dtype."""
    return torch.log_softmax(logits.float(), dim=-1)


def _p_times(logp: torch.Tensor, value: torch.Tensor, p: torch.Tensor | None = None) -> torch.Tensor:
    """sum_v p(v) * value(v), with 0 wherever p == 0 (so -inf log-probs are safe).

    The plain product-sum is the fast path; only rows where it is not finite (0 * -inf from masked
    logits) are recomputed with the explicit zero.
    """
    p = logp.exp() if p is None else p
    out = (p * value).sum(-1)
    bad = ~torch.isfinite(out)
    if bad.any():
        pb, vb = p[bad], value[bad]
        out[bad] = torch.where(pb > 0, pb * vb, torch.zeros_like(vb)).sum(-1)
    return out


def surprisal_from_logp(logp: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """-log p(target) per position; ``targets`` has logp's shape without the vocabulary axis."""
    return -logp.gather(-1, targets.unsqueeze(-1).long()).squeeze(-1)


def entropy_from_logp(logp: torch.Tensor, p: torch.Tensor | None = None) -> torch.Tensor:
    """Predictive entropy -sum_v p log p per position (``p`` = logp.exp() if already computed)."""
    return -_p_times(logp, logp, p)


def kl_from_logp(logp: torch.Tensor, logq: torch.Tensor, p: torch.Tensor | None = None) -> torch.Tensor:
    """KL(p || q) per position."""
    return _p_times(logp, logp - logq, p)


def js_from_logp(logp: torch.Tensor, logq: torch.Tensor, p: torch.Tensor | None = None,
                 q: torch.Tensor | None = None) -> torch.Tensor:
    """Jensen-Shannon divergence per position, in nats (at most ln 2)."""
    p = logp.exp() if p is None else p
    q = logq.exp() if q is None else q
    logm = torch.logaddexp(logp, logq) - LN2
    return 0.5 * (_p_times(logp, logp - logm, p) + _p_times(logq, logq - logm, q))


def _shifted(logits: torch.Tensor):
    """z' = z - max z (<= 0), e = exp(z'), s = sum e, log s: the one exp pass everything else reuses."""
    z = logits.float()
    shifted = z - z.amax(dim=-1, keepdim=True)
    e = shifted.exp()
    s = e.sum(-1)
    return shifted, e, s, s.log()


def _dot(weights: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """sum_v weights * value with 0 where weights == 0 (rows hit by 0 * -inf are redone explicitly)."""
    out = (weights * value).sum(-1)
    bad = ~torch.isfinite(out)
    if bad.any():
        wb, vb = weights[bad], value[bad]
        out[bad] = torch.where(wb > 0, wb * vb, torch.zeros_like(vb)).sum(-1)
    return out


def surprisal_and_entropy(logits: torch.Tensor, targets: torch.Tensor, *, keep_distribution: bool = False):
    """Surprisal and entropy per position with a single exp over the vocabulary (the fast path).

    With z' = z - max z, e = exp(z') and s = sum e: log p = z' - log s, so surprisal = log s - z'[target]
    and entropy = log s - sum(e z') / s. Both terms are small for peaked distributions (no cancellation
    of large numbers), and everything is float32. With ``keep_distribution`` also returns (log p, p)
    for the divergences.
    """
    shifted, e, s, log_s = _shifted(logits)
    surprisal = log_s - shifted.gather(-1, targets.unsqueeze(-1).long()).squeeze(-1)
    entropy = log_s - _dot(e, shifted) / s
    if not keep_distribution:
        return surprisal, entropy
    return surprisal, entropy, (shifted - log_s.unsqueeze(-1), e / s.unsqueeze(-1))


def divergences(logp: torch.Tensor, logq: torch.Tensor, p: torch.Tensor, q: torch.Tensor):
    """(KL(p||q), KL(q||p), JS(p, q)) per position, sharing log p - log q and log m between them."""
    diff = logp - logq
    kl_pq = _dot(p, diff)
    kl_qp = -_dot(q, diff)
    logm = ((p + q) * 0.5).log()
    js = 0.5 * (_dot(p, logp - logm) + _dot(q, logq - logm))
    return kl_pq, kl_qp, js


def surprisal(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return surprisal_from_logp(log_probs(logits), targets)


def entropy(logits: torch.Tensor) -> torch.Tensor:
    return entropy_from_logp(log_probs(logits))


def kl_divergence(logits_p: torch.Tensor, logits_q: torch.Tensor) -> torch.Tensor:
    return kl_from_logp(log_probs(logits_p), log_probs(logits_q))


def js_divergence(logits_p: torch.Tensor, logits_q: torch.Tensor) -> torch.Tensor:
    return js_from_logp(log_probs(logits_p), log_probs(logits_q))


def bits_per_byte(surprisal_sum_nats: float, n_bytes: int) -> float | None:
    """Summed surprisal (nats) over the scored text, in bits per UTF-8 byte of that text."""
    if n_bytes <= 0:
        return None
    return surprisal_sum_nats / LN2 / n_bytes


class Moments:
    """Per-document count, sum and sum of squares in float64, filled by scatter-adding token values.

    ``mean`` and ``std`` (population standard deviation, ddof=0: the spread of the document's own
    tokens) are read per document once all of its tokens are in.
    """

    def __init__(self, n_docs: int):
        self.count = torch.zeros(n_docs, dtype=torch.float64)
        self.total = torch.zeros(n_docs, dtype=torch.float64)
        self.squares = torch.zeros(n_docs, dtype=torch.float64)

    def add(self, doc_index: torch.Tensor, values: torch.Tensor) -> None:
        values = values.double()
        self.count.index_add_(0, doc_index, torch.ones_like(values))
        self.total.index_add_(0, doc_index, values)
        self.squares.index_add_(0, doc_index, values * values)

    def mean(self, i: int) -> float:
        return float(self.total[i] / self.count[i])

    def std(self, i: int) -> float:
        n = float(self.count[i])
        mean = float(self.total[i]) / n
        variance = max(float(self.squares[i]) / n - mean * mean, 0.0)
        return math.sqrt(variance)
