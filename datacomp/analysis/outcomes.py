"""What a data-centric finding is about: the compression loss, not the difficulty of the text.

A window that is hard for the decoder with its full context is hard compressed too: raw quality against
entropy mixes the two. Per example (the query pairs them on the same example), the compression loss is
``quality(full) - quality(system)`` and the retained share ``quality(system) / quality(full)``. Where the
full-context baseline ran on at least ``min_n`` of a compressor's documents the loss is every finding's
primary outcome; raw quality and full-context quality (difficulty) are tested beside it, outside the
family, so a verdict can say "entropy predicts compression loss" or "entropy predicts difficulty (full
context) but not the loss". Without that baseline (an older store) the findings are on raw quality and
say so.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Sequence

import numpy as np

from datacomp.analysis.bootstrap import mean_interval

LOSS, QUALITY, FULL = "loss", "quality", "full"
# the direction a claim "X hurts compression" predicts for each outcome
EXPECTED = {LOSS: "positive", QUALITY: "negative", FULL: "negative"}


def outcome_name(outcome: str, metric: str) -> str:
    return {LOSS: f"{metric} loss (full - system)", QUALITY: metric, FULL: f"full-context {metric}"}[outcome]


def outcome_values(rows: Sequence[dict[str, Any]], metric: str, min_n: int,
                   column) -> tuple[str, dict[str, np.ndarray], str | None]:
    """(primary outcome, {outcome: per-document values}, warning). ``column(rows, key)`` reads a column."""
    y = column(rows, metric)
    full = column(rows, f"full_{metric}")
    paired = np.isfinite(y) & np.isfinite(full)
    if int(paired.sum()) >= min_n:
        return LOSS, {LOSS: full - y, QUALITY: y, FULL: full}, None
    warning = (f"no full-context baseline on {min_n} or more of these documents' examples ({int(paired.sum())} "
               f"of {len(rows)}): the findings are on raw {metric}, which mixes how hard a window is with any "
               "context with what compression loses; evaluate with the full baseline to test the loss")
    return QUALITY, {QUALITY: y}, warning


def retained_share(system: np.ndarray, full: np.ndarray) -> float | None:
    """mean(system) / mean(full) over the documents with both (a ratio of means: per-document ratios are
    heavy-tailed where full is small); None when full's mean is not above 0."""
    keep = np.isfinite(system) & np.isfinite(full)
    if not keep.any() or float(full[keep].mean()) <= 0:
        return None
    return float(system[keep].mean() / full[keep].mean())


def loss_summary(values: dict[str, np.ndarray], domain: Sequence[str], confidence: float, n_boot: int,
                 seed: int) -> dict[str, Any] | None:
    """Mean loss (BCa) and retained share, overall and per domain: what compression costs, by domain."""
    if LOSS not in values:
        return None
    boot = dict(n_boot=n_boot, seed=seed)

    def summary(mask: np.ndarray) -> dict[str, Any]:
        return {**mean_interval(values[LOSS][mask], confidence, **boot),
                "full": float(np.nanmean(values[FULL][mask])) if mask.any() else None,
                "retained": retained_share(values[QUALITY][mask], values[FULL][mask])}

    labels = np.array([str(d) for d in domain])
    finite = np.isfinite(values[LOSS])
    groups: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(len(labels), dtype=bool))
    for level in sorted(set(labels.tolist())):
        groups[level] = (labels == level) & finite
    return {"overall": summary(finite),
            "by_domain": [{"domain": level, **summary(mask)} for level, mask in groups.items() if mask.any()]}
