"""Descriptive summaries: n/mean/spread of a sample, and mean quality within quantile bins of a predictor.

Intervals of means are BCa bootstrap intervals (bootstrap.mean_interval), so the bin means of a bounded
metric (F1 in [0, 1]) never get bounds outside it, as t intervals of a floor-heavy sample do.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from datacomp.analysis.bootstrap import mean_interval
from datacomp.analysis.correlations import finite_rows


@dataclasses.dataclass(frozen=True)
class Bin:
    x_low: float
    x_high: float
    x_mean: float
    y_mean: float
    ci_low: float | None     # BCa interval of the bin's mean; None for a single observation
    ci_high: float | None
    n: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def binned_means(x: Sequence[float], y: Sequence[float], n_bins: int = 5, confidence: float = 0.95,
                 n_boot: int = 1000, seed: int = 0) -> list[Bin]:
    """Mean of y within quantile bins of x, with a BCa interval per bin.

    Bin edges are the x quantiles 0, 1/n_bins, ..., 1; repeated edges (heavy ties) merge bins, so fewer
    than ``n_bins`` bins may come back. The last bin includes its upper edge.
    """
    x, y = np.asarray(x, dtype=float).reshape(-1), np.asarray(y, dtype=float).reshape(-1)
    keep = finite_rows(x, y)
    x, y = x[keep], y[keep]
    if x.size == 0:
        return []
    edges = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)))
    if edges.size == 1:
        edges = np.array([edges[0], edges[0]])
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    bins = []
    for b in range(edges.size - 1):
        in_bin = which == b
        if not in_bin.any():
            continue
        interval = mean_interval(y[in_bin], confidence, n_boot=n_boot, seed=seed)
        bins.append(Bin(float(edges[b]), float(edges[b + 1]), float(x[in_bin].mean()), interval["mean"],
                        interval["ci_low"], interval["ci_high"], interval["n"]))
    return bins


def describe(values: Sequence[float]) -> dict[str, float | int | None]:
    """n, mean, std, min, p10, median, p90, max of the finite values (None when there are none)."""
    v = np.asarray([np.nan if x is None else x for x in values], dtype=float).reshape(-1)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0, "mean": None, "std": None, "min": None, "p10": None, "median": None,
                "p90": None, "max": None}
    p10, median, p90 = np.percentile(v, [10, 50, 90])
    return {"n": int(v.size), "mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else None,
            "min": float(v.min()), "p10": float(p10), "median": float(median), "p90": float(p90),
            "max": float(v.max())}
