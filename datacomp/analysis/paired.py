"""Paired comparisons of systems run on the same examples: the mean difference with a BCa bootstrap CI
and its agreeing p-value, the Wilcoxon signed-rank p beside it, and the compression gain with its CI.

Systems evaluated on the same examples are compared example by example (their scores are correlated:
comparing unpaired intervals wastes that and can mislead both ways). The bootstrap (bootstrap.py)
resamples examples, or whole clusters (documents with several examples) when ``clusters`` is given, and
recomputes the mean difference. "Excludes 0" is the CI's reading and equals p_bootstrap < 1 - confidence;
where 0 lies beyond every resample p_bootstrap is the bound 2 / (n_boot + 1) (``p_bootstrap_bound``).
The Wilcoxon signed-rank test (scipy, two-sided, zero differences dropped) asks a rank question; when it
disagrees with the CI (a mean carried by a few examples, as on a floor of zeros) the comparison says so.
Every difference 0 (identical systems): the CI is [0, 0] and there is no p-value.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from datacomp.analysis.bootstrap import bca


def _complete(columns: Sequence[Sequence[float | None]], clusters: Sequence[Any] | None):
    """Rows where every column is present and finite, as float arrays, with their cluster keys."""
    keep = [i for i in range(len(columns[0]))
            if all(c[i] is not None and math.isfinite(float(c[i])) for c in columns)]
    arrays = [np.array([float(c[i]) for i in keep]) for c in columns]
    keys = [clusters[i] if clusters is not None else i for i in keep]
    groups: dict[Any, list[int]] = {}
    for row, key in enumerate(keys):
        groups.setdefault(key, []).append(row)
    return arrays, list(groups.values())


def _cluster_sums(values: np.ndarray, members: list[list[int]]) -> np.ndarray:
    return np.array([values[m].sum() for m in members])


def paired_difference(a: Sequence[float | None], b: Sequence[float | None], n_boot: int = 2000,
                      confidence: float = 0.95, seed: int = 0,
                      clusters: Sequence[Any] | None = None) -> dict[str, Any]:
    """mean(a - b) over the pairs where both are present, its BCa CI and p, Wilcoxon p, n, clusters."""
    from scipy import stats as sps

    (x, y), members = _complete([a, b], clusters)
    n = int(x.size)
    out: dict[str, Any] = {"n": n, "mean": None, "ci_low": None, "ci_high": None, "p_bootstrap": None,
                           "p_bootstrap_bound": False,
                           "p_wilcoxon": None, "n_clusters": len(members) or None, "excludes_zero": False,
                           "identical": False, "wilcoxon_disagrees": False, "confidence": confidence}
    if n == 0:
        return out
    diff = x - y
    out["mean"] = float(diff.mean())
    if np.all(diff == 0):
        out.update(ci_low=0.0, ci_high=0.0, identical=True)
        return out
    if len(members) >= 2:
        sums = _cluster_sums(diff, members)
        sizes = np.array([len(m) for m in members], dtype=float)
        boot = bca(lambda index: sums[index].sum(axis=-1) / sizes[index].sum(axis=-1), len(members),
                   n_boot=n_boot, seed=seed, confidence=confidence)
        # 0 beyond every resample: the bootstrap can only bound p, by its resolution
        p_bootstrap = 2.0 / (n_boot + 1) if boot.p_extrapolated else boot.p_value
        out.update(ci_low=boot.ci_low, ci_high=boot.ci_high, p_bootstrap=p_bootstrap,
                   p_bootstrap_bound=boot.p_extrapolated)
        out["excludes_zero"] = bool(boot.ci_low is not None and (boot.ci_low > 0 or boot.ci_high < 0))
    out["p_wilcoxon"] = float(sps.wilcoxon(diff, zero_method="wilcox", alternative="two-sided").pvalue)
    out["wilcoxon_disagrees"] = (out["ci_low"] is not None
                                 and (out["p_wilcoxon"] < 1 - confidence) != out["excludes_zero"])
    return out


def paired_gain(system: Sequence[float | None], none: Sequence[float | None], full: Sequence[float | None],
                n_boot: int = 2000, confidence: float = 0.95, seed: int = 0,
                clusters: Sequence[Any] | None = None) -> dict[str, Any]:
    """Compression gain (system - none) / (full - none) of the means over the examples all three have,
    with a BCa CI resampling examples (or clusters) for numerator and denominator together. Only defined
    where full is above none by a paired CI: otherwise the decoder does not use its context here, and the
    gain is None with that reason."""
    (s, z, f), members = _complete([system, none, full], clusters)
    out: dict[str, Any] = {"n": int(s.size), "gain": None, "ci_low": None, "ci_high": None, "reason": None}
    labels = [0] * int(s.size)
    for k, rows in enumerate(members):
        for row in rows:
            labels[row] = k
    context = paired_difference(list(f), list(z), n_boot=n_boot, confidence=confidence, seed=seed, clusters=labels)
    out["full_minus_none"] = context
    if not (context["excludes_zero"] and context["mean"] > 0):
        out["reason"] = ("the decoder does not use its context here (full - none is not above 0 by a paired "
                         "CI), so the gain is not testable")
        return out
    gain_sum = _cluster_sums(s - z, members)
    spread_sum = _cluster_sums(f - z, members)
    out["gain"] = float(gain_sum.sum() / spread_sum.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = bca(lambda index: gain_sum[index].sum(axis=-1) / spread_sum[index].sum(axis=-1), len(members),
                   n_boot=n_boot, seed=seed, confidence=confidence)
    out["ci_low"], out["ci_high"] = boot.ci_low, boot.ci_high
    return out
