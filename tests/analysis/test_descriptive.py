"""Binned means against scipy.stats.bootstrap on the same resamples; ties merge bins."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from datacomp.analysis.descriptive import binned_means


def test_binned_means_use_quantile_bins_and_bca_intervals():
    rng = np.random.default_rng(9)
    x = rng.uniform(0, 10, size=1000)
    y = 2.0 - 0.1 * x + rng.normal(scale=0.2, size=1000)
    bins = binned_means(x, y, n_bins=4, n_boot=500, seed=2)
    assert len(bins) == 4 and sum(b.n for b in bins) == 1000
    edges = np.quantile(x, [0, 0.25, 0.5, 0.75, 1])
    first = (x >= edges[0]) & (x < edges[1])
    assert bins[0].n == first.sum()
    assert bins[0].y_mean == pytest.approx(y[first].mean())
    expected = sps.bootstrap((y[first],), np.mean, n_resamples=500, method="BCa",
                             rng=np.random.default_rng(2)).confidence_interval
    assert (bins[0].ci_low, bins[0].ci_high) == pytest.approx((expected.low, expected.high), rel=1e-10)
    assert [b.y_mean for b in bins] == sorted([b.y_mean for b in bins], reverse=True)  # planted decrease


def test_binned_means_with_heavy_ties_merge_bins():
    bins = binned_means([1, 1, 1, 1, 1, 1, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8], n_bins=4)
    assert sum(b.n for b in bins) == 8 and len(bins) < 4
