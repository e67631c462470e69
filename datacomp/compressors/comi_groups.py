"""COMI's coarse and fine stages as pure functions of one example's hidden states (Twilightaaa/COMI,
modeling_comi.py: ``GroupReallocator.reallocate_group_size`` and ``TKDR``).

Coarse (``official_group_sizes``): n tokens, merge size r, G = ceil(n / r) (G <= 1: one group of n).
Initial groups are fixed-size r groups, the last one short. Per group, the representative is its token
with the highest cos(h_i, q) (relevance = that cosine); redundancy = max cosine between its
representative and the other groups' representatives. scores = alpha * relevance - beta * redundancy,
quotas = n * softmax(-scores); sizes = floor(quotas), the remaining tokens go +1 to the largest
fractional parts (ties to the earlier group); groups of size 0 are dropped and the context is re-cut
contiguously with the rest. So there are at most G slots, and high-score groups end up smaller.

Fine (``fine_merge``): in each group, w_i = softmax_i(alpha * cos(h_i, q) - beta * red_i), slot = sum_i
w_i h_i. ``redundancy="official"``: red_i = max(max_{j != i in the group} cos(h_i, h_j), 0) in groups
shorter than the example's longest group, unclipped in the longest ones (the official code pads the
groups of one example to its longest group with zero columns, which clip the max at 0); it depends on
the example only, never on what else is in a batch. ``redundancy="exact"``: no clip. A one-token group
has redundancy 0 either way.

With every alpha and beta 0 (``meanpool``), scores are 0, quotas are n / G each, and the largest
remainder gives ``equal_group_sizes(n, G)`` (sizes differ by at most one, larger first) - not the
initial fixed-size groups - and the weights are uniform: the mean of each group.

Non-integer r (the official merge size is an integer): the initial group g is tokens
floor(g r) .. floor((g + 1) r) - 1, which is fixed-size r groups when r is an integer.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

REDUNDANCY_MODES = ("official", "exact")


def fixed_group_sizes(n_tokens: int, ratio: float) -> list[int]:
    """The initial groups: ceil(n / r) contiguous groups of r tokens, the last one short."""
    count = max(1, math.ceil(n_tokens / ratio))
    bounds = [min(math.floor(g * ratio), n_tokens) for g in range(count)] + [n_tokens]
    return [bounds[g + 1] - bounds[g] for g in range(count)]


def equal_group_sizes(n_tokens: int, n_groups: int) -> list[int]:
    """n_tokens cut into n_groups contiguous groups whose sizes differ by at most one (larger first)."""
    base, extra = divmod(n_tokens, n_groups)
    return [base + 1 if g < extra else base for g in range(n_groups)]


def largest_remainder(quotas: list[float], total: int) -> list[int]:
    """floor of each quota, then +1 to the ``total - sum(floors)`` largest fractional parts (ties to the
    earlier index). Zeros are kept (the caller drops them)."""
    floors = [math.floor(q) for q in quotas]
    left = total - sum(floors)
    order = sorted(range(len(quotas)), key=lambda g: (-(quotas[g] - floors[g]), g))
    for g in order[:max(left, 0)]:
        floors[g] += 1
    return floors


def _offsets(sizes: list[int]) -> list[int]:
    starts, start = [], 0
    for size in sizes:
        starts.append(start)
        start += size
    return starts


def group_scores(cos_q: torch.Tensor, hidden: torch.Tensor, sizes: list[int], alpha: float, beta: float
                 ) -> torch.Tensor:
    """(G,) alpha * relevance - beta * redundancy of contiguous groups of ``sizes`` (G >= 2); cos_q (n,)
    = cos(h_i, q), hidden (n, d)."""
    reps, relevance = [], []
    for start, size in zip(_offsets(sizes), sizes):
        value, best = cos_q[start:start + size].max(dim=0)
        relevance.append(value)
        reps.append(start + int(best))
    relevance = torch.stack(relevance)
    normed = F.normalize(hidden[torch.tensor(reps, device=hidden.device)], dim=-1)
    sim = normed @ normed.T
    sim.fill_diagonal_(-float("inf"))
    return alpha * relevance - beta * sim.max(dim=1).values


def official_group_sizes(cos_q: torch.Tensor, hidden: torch.Tensor, ratio: float, alpha: float, beta: float
                         ) -> list[int]:
    """The coarse stage (GroupReallocator): the final group sizes in token order, zeros dropped."""
    n = int(hidden.shape[0])
    initial = fixed_group_sizes(n, ratio)
    if len(initial) <= 1:
        return [n]
    scores = group_scores(cos_q.detach().double(), hidden.detach().double(), initial, float(alpha), float(beta))
    quotas = (n * torch.softmax(-scores, dim=0)).tolist()
    return [size for size in largest_remainder(quotas, n) if size > 0]


def padded_groups(sizes: list[int], device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(token index (G, L), valid (G, L)) of contiguous groups of ``sizes``, padded to L = max size
    (padding points at the group's last token and is marked invalid)."""
    lengths = torch.tensor(sizes, device=device)
    starts = lengths.cumsum(0) - lengths
    offsets = torch.arange(max(sizes), device=device)
    valid = offsets[None] < lengths[:, None]
    index = starts[:, None] + torch.minimum(offsets[None], lengths[:, None] - 1)
    return index, valid


def fine_weights(cos_q: torch.Tensor, hidden: torch.Tensor, sizes: list[int], alpha, beta,
                 redundancy: str = "official") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(weights (G, L), token index (G, L), valid (G, L)) of the fine stage; padding has weight 0."""
    if redundancy not in REDUNDANCY_MODES:
        raise ValueError(f"redundancy must be one of {REDUNDANCY_MODES}, not {redundancy!r}")
    index, valid = padded_groups(sizes, hidden.device)
    width = index.shape[1]
    normed = F.normalize(hidden, dim=-1)[index]                      # (G, L, d)
    sim = normed @ normed.transpose(1, 2)                            # (G, L, L)
    eye = torch.eye(width, dtype=torch.bool, device=hidden.device)[None]
    sim = sim.masked_fill(eye, -float("inf"))
    padding = ~valid[:, None, :] & ~eye
    sim = sim.masked_fill(padding, 0.0 if redundancy == "official" else -float("inf"))
    red = sim.max(dim=-1).values
    red = red.masked_fill(torch.isinf(red), 0.0)                     # a one-token group: no redundancy
    scores = (alpha * cos_q[index] - beta * red).masked_fill(~valid, -float("inf"))
    return torch.softmax(scores, dim=-1), index, valid


def fine_merge(cos_q: torch.Tensor, hidden: torch.Tensor, sizes: list[int], alpha, beta,
               redundancy: str = "official") -> torch.Tensor:
    """(G, d) slots: each group's fine_weights-weighted sum of its raw hidden states."""
    weights, index, _ = fine_weights(cos_q, hidden, sizes, alpha, beta, redundancy)
    return (weights[..., None] * hidden[index]).sum(dim=1)


def query_cosines(hidden: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
    """(n,) cos(h_i, q) as the official code computes it (both sides L2-normalised)."""
    return F.normalize(hidden, dim=-1) @ F.normalize(query, dim=-1)


def _number(value) -> float:
    return float(value.detach()) if isinstance(value, torch.Tensor) else float(value)


def comi_slots(hidden: torch.Tensor, query: torch.Tensor, ratio: float, alpha_select, beta_select,
               alpha_merge, beta_merge, redundancy: str = "official") -> tuple[torch.Tensor, list[int]]:
    """Coarse then fine compression of one example's (n, d) context hidden states: (slots, group sizes)."""
    cos_q = query_cosines(hidden, query)
    sizes = official_group_sizes(cos_q, hidden, ratio, _number(alpha_select), _number(beta_select))
    return fine_merge(cos_q, hidden, sizes, alpha_merge, beta_merge, redundancy), sizes
