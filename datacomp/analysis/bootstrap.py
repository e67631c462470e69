"""The report's one bootstrap: BCa intervals, and the p-value that agrees with them.

A statistic is given as a function of an index matrix: ``statistic(index)`` maps ``index`` of shape
(r, k), each row a resample of the k units (rows, or whole clusters), to r values. The bootstrap draws
``index = default_rng(seed).integers(0, k, (n_boot, k))`` (the draws ``scipy.stats.bootstrap`` makes with
the same generator, so the interval equals scipy's BCa interval on the same data: tested).

- **Interval:** bias-corrected and accelerated (Efron & Tibshirani 1993, ch. 14.3): z0 from the share of
  resampled statistics below the estimate (ties count half, as scipy), the acceleration a from the
  leave-one-unit-out jackknife, then the percentiles Phi(z0 + (z0 + z)/(1 - a (z0 + z))) of the draws
  (linear interpolation, as ``numpy.percentile``). The ends are order statistics of the draws, so an
  interval of a bounded quantity (a mean F1 in [0, 1]) stays inside its bounds.
- **p-value:** the two-sided achieved significance level of the same interval (Efron & Tibshirani
  ch. 15.4): the smallest 1 - confidence at which the BCa interval excludes the null value. So "the CI
  excludes 0" and "p < 1 - confidence" are the same statement, by construction. When the null lies beyond
  every draw, the resamples cannot place it; its share of the bootstrap distribution is then read from a
  normal fitted to the draws (mean, sd) and put through the same BCa map, capped at the bootstrap's
  resolution 2 / (n_boot + 1) (the interval excludes the null, so p must fall below every level it excludes
  it at), and flagged ``p_extrapolated``: a strong effect keeps its small p (2 / (n_boot + 1) alone would
  make every strong effect "not significant" after a family correction).
- Resamples whose statistic is undefined (NaN: a resample where a variable is constant) are dropped and
  counted; the interval and p come from the rest.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np
from scipy.special import ndtr, ndtri

Statistic = Callable[[np.ndarray], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Bootstrap:
    estimate: float
    ci_low: float | None
    ci_high: float | None
    p_value: float | None             # two-sided, against ``null``; None when undefined (constant draws at null)
    n_boot: int
    dropped: int                      # resamples whose statistic was undefined
    p_extrapolated: bool = False      # the null lies beyond every draw: its tail share from a normal fit

    def method_text(self, unit: str = "pairs", seed: int = 0) -> str:
        text = f"BCa bootstrap, {self.n_boot} resamples of {unit}, seed {seed}"
        return text + (f" ({self.dropped} degenerate resamples dropped)" if self.dropped else "")


def resample_index(n_units: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n_units) unit indices drawn with replacement (scipy.stats.bootstrap's draws for this seed)."""
    return np.random.default_rng(seed).integers(0, n_units, size=(n_boot, n_units))


def jackknife_index(n_units: int) -> np.ndarray:
    """(n_units, n_units - 1): row i holds every unit but i."""
    index = np.tile(np.arange(max(n_units - 1, 0)), (n_units, 1))
    return index + (index >= np.arange(n_units)[:, None])


def _in_chunks(statistic: Statistic, index: np.ndarray, max_elements: int) -> np.ndarray:
    parts = max(1, -(-index.size // max_elements))
    return np.concatenate([np.asarray(statistic(chunk), dtype=float).reshape(-1)
                           for chunk in np.array_split(index, parts)])


def _percentiles(sorted_draws: np.ndarray, levels: np.ndarray) -> np.ndarray:
    return np.percentile(sorted_draws, levels * 100)


def bca(statistic: Statistic, n_units: int, *, n_boot: int = 2000, seed: int = 0, confidence: float = 0.95,
        null: float = 0.0, max_elements: int = 4_000_000) -> Bootstrap:
    """BCa interval and the agreeing two-sided p-value of ``statistic`` over ``n_units`` resampled units."""
    estimate = float(np.asarray(statistic(np.arange(n_units)[None, :])).reshape(-1)[0])
    draws = _in_chunks(statistic, resample_index(n_units, n_boot, seed), max_elements)
    finite = np.sort(draws[np.isfinite(draws)])
    dropped = int(draws.size - finite.size)
    if finite.size < 2 or not math.isfinite(estimate):
        return Bootstrap(estimate, None, None, None, n_boot, dropped)
    if finite[0] == finite[-1]:   # every resample gives the same value: the interval is that point
        value = float(finite[0])
        p_value = None if value == null else 0.0
        return Bootstrap(estimate, value, value, p_value, n_boot, dropped, p_value is not None)
    z0 = float(ndtri((np.count_nonzero(finite < estimate) + np.count_nonzero(finite <= estimate))
                     / (2 * finite.size)))
    leave_one_out = _in_chunks(statistic, jackknife_index(n_units), max_elements)
    leave_one_out = leave_one_out[np.isfinite(leave_one_out)]
    deviation = leave_one_out.mean() - leave_one_out
    spread = float(np.sum(deviation**2))
    acceleration = float(np.sum(deviation**3) / (6 * spread**1.5)) if spread > 0 else 0.0
    if not math.isfinite(z0):     # the estimate lies beyond every draw: no bias correction can be estimated
        z0 = math.copysign(float(ndtri(1 - 0.5 / finite.size)), z0)

    def level(z: float) -> float:
        return float(ndtr(z0 + (z0 + z) / (1 - acceleration * (z0 + z))))

    tail = (1 - confidence) / 2
    low, high = _percentiles(finite, np.array([level(float(ndtri(tail))), level(float(ndtri(1 - tail)))]))
    p_value, extrapolated = _achieved_significance(finite, null, z0, acceleration)
    if extrapolated:   # the null is beyond every draw, so the interval excludes it: p below the resolution
        p_value = min(p_value, 2.0 / (n_boot + 1))
    return Bootstrap(estimate, float(low), float(high), p_value, n_boot, dropped, extrapolated)


def _achieved_significance(sorted_draws: np.ndarray, null: float, z0: float,
                           acceleration: float) -> tuple[float, bool]:
    """Two-sided level at which a BCa endpoint reaches ``null``: invert the endpoint map at the null's
    percentile level among the draws (the inverse of numpy.percentile's linear interpolation), or, beyond
    every draw, at its level under a normal fitted to the draws."""
    u = math.nan
    if sorted_draws[0] <= null <= sorted_draws[-1]:
        positions = np.arange(sorted_draws.size, dtype=float)
        # the level q with percentile(draws, 100 q) == null; repeated draws: the middle of their run
        left = np.interp(null, sorted_draws, positions)
        right = sorted_draws.size - 1 - np.interp(-null, -sorted_draws[::-1], positions)
        u = float(ndtri(((left + right) / 2) / (sorted_draws.size - 1)))
    extrapolated = not math.isfinite(u)   # beyond every draw (or on a lone extreme one)
    if extrapolated:
        u = (null - float(sorted_draws.mean())) / float(sorted_draws.std(ddof=1))
    w = u - z0
    denominator = 1 + acceleration * w
    if denominator <= 0:   # the BCa map never reaches the null at any level: the plain normal tail
        return 2 * float(ndtr(-abs(u))), True
    z = w / denominator - z0
    return min(1.0, 2 * min(float(ndtr(z)), float(ndtr(-z)))), extrapolated


# ----------------------------------------------------------------------------- means of one sample
def mean_interval(values, confidence: float = 0.95, n_boot: int = 2000, seed: int = 0) -> dict:
    """Mean with its BCa interval (resampling values), inside [min, max] of the data: a mean F1 never
    gets a negative lower bound. Constant data give the point as the interval; n < 2 gives no interval."""
    v = np.asarray([x for x in values if x is not None], dtype=float)
    v = v[np.isfinite(v)]
    n = int(v.size)
    if n == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    mean = float(v.mean())
    if n < 2:
        return {"mean": mean, "ci_low": None, "ci_high": None, "n": n}
    result = bca(lambda index: v[index].mean(axis=-1), n, n_boot=n_boot, seed=seed, confidence=confidence)
    return {"mean": mean, "ci_low": result.ci_low, "ci_high": result.ci_high, "n": n}


def zero_share(values) -> dict:
    """How many of the present values are exactly 0 (a floor: F1 of answers sharing no token)."""
    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    zeros = sum(1 for x in v if x == 0)
    return {"n": len(v), "n_zero": zeros, "share_zero": zeros / len(v) if v else None}
