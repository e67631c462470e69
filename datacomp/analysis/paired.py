"""Paired comparisons of two systems run on the same examples: the mean difference with a paired
bootstrap CI and a Wilcoxon signed-rank p-value.

Systems evaluated on the same examples are compared example by example (their scores are correlated:
comparing unpaired intervals wastes that and can mislead both ways). The bootstrap resamples examples
(or whole clusters, e.g. documents with several examples, when ``clusters`` is given) with replacement
and recomputes the mean difference; the interval is the percentile interval of those means. The
Wilcoxon signed-rank test (scipy, two-sided, zero differences dropped as in Wilcoxon's original method)
gives the p-value; with every difference 0 it is undefined (p None). A difference "excludes 0" when the
whole CI lies on one side of it.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np


def paired_difference(a: Sequence[float | None], b: Sequence[float | None], n_boot: int = 2000,
                      confidence: float = 0.95, seed: int = 0,
                      clusters: Sequence[Any] | None = None) -> dict[str, Any]:
    """mean(a - b) over the pairs where both are present, its paired-bootstrap CI, Wilcoxon p, n."""
    from scipy import stats as sps

    pairs = [(float(x), float(y), clusters[i] if clusters is not None else i)
             for i, (x, y) in enumerate(zip(a, b))
             if x is not None and y is not None and math.isfinite(float(x)) and math.isfinite(float(y))]
    n = len(pairs)
    out: dict[str, Any] = {"n": n, "mean": None, "ci_low": None, "ci_high": None, "p_wilcoxon": None,
                           "n_clusters": None, "excludes_zero": False}
    if n == 0:
        return out
    diff = np.array([x - y for x, y, _ in pairs])
    out["mean"] = float(diff.mean())
    keys = [key for _, _, key in pairs]
    groups: dict[Any, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    members = list(groups.values())
    out["n_clusters"] = len(members)
    if n >= 2 and len(members) >= 2:
        sums = np.array([diff[m].sum() for m in members])
        sizes = np.array([len(m) for m in members], dtype=float)
        draws = np.random.default_rng(seed).integers(0, len(members), size=(n_boot, len(members)))
        means = sums[draws].sum(axis=1) / sizes[draws].sum(axis=1)
        tail = (1 - confidence) / 2 * 100
        out["ci_low"], out["ci_high"] = (float(v) for v in np.percentile(means, [tail, 100 - tail]))
        out["excludes_zero"] = bool(out["ci_low"] > 0 or out["ci_high"] < 0)
    if np.any(diff != 0):
        out["p_wilcoxon"] = float(sps.wilcoxon(diff, zero_method="wilcox", alternative="two-sided").pvalue)
    return out
