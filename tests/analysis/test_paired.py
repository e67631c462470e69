"""Paired differences: the mean, a bootstrap CI checked against an independent resampling loop, scipy's
Wilcoxon, clusters resampled whole."""

import numpy as np
import pytest
from scipy import stats as sps

from datacomp.analysis.paired import paired_difference


def test_mean_ci_and_wilcoxon_against_independent_computations():
    rng = np.random.default_rng(1)
    a = rng.normal(1.0, 1.0, 60)
    b = a - rng.normal(0.3, 0.5, 60)
    got = paired_difference(list(a), list(b), n_boot=4000, seed=3)
    diff = a - b
    assert got["n"] == 60 and got["mean"] == pytest.approx(diff.mean())
    # independent: a plain loop over resamples of the differences
    draws = np.random.default_rng(3).integers(0, 60, size=(4000, 60))
    loop = [diff[row].mean() for row in draws]
    assert got["ci_low"] == pytest.approx(np.percentile(loop, 2.5))
    assert got["ci_high"] == pytest.approx(np.percentile(loop, 97.5))
    assert got["p_wilcoxon"] == pytest.approx(sps.wilcoxon(diff).pvalue)
    assert got["excludes_zero"] and got["ci_low"] > 0


def test_missing_values_are_dropped_pairwise_and_ties_give_no_p():
    got = paired_difference([1.0, None, 2.0, float("nan")], [1.0, 5.0, 2.0, 3.0])
    assert got["n"] == 2 and got["mean"] == 0.0 and got["p_wilcoxon"] is None and not got["excludes_zero"]
    assert paired_difference([], [])["mean"] is None


def test_clusters_are_resampled_whole():
    a = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    b = [0.0] * 6
    clustered = paired_difference(a, b, clusters=["d1", "d1", "d1", "d2", "d2", "d2"], n_boot=2000)
    assert clustered["n_clusters"] == 2
    # with two clusters a resample holds d1 twice, once or not at all: means 1, 0.5 or 0
    plain = paired_difference(a, b, n_boot=2000)
    assert clustered["ci_low"] == 0.0 and clustered["ci_high"] == 1.0
    assert plain["ci_high"] - plain["ci_low"] < 1.0
