"""Paired differences and gains: the BCa interval against scipy.stats.bootstrap on the same resamples, its
p agreeing with it, scipy's Wilcoxon beside it (and flagged when they disagree), clusters resampled whole,
identical systems, and gains only where the decoder reads its context."""

import numpy as np
import pytest
from scipy import stats as sps

from datacomp.analysis.paired import paired_difference, paired_gain


def test_mean_ci_and_wilcoxon_against_independent_computations():
    rng = np.random.default_rng(1)
    a = rng.normal(1.0, 1.0, 60)
    b = a - rng.normal(0.3, 0.5, 60)
    got = paired_difference(list(a), list(b), n_boot=4000, seed=3)
    diff = a - b
    assert got["n"] == 60 and got["mean"] == pytest.approx(diff.mean())
    expected = sps.bootstrap((diff,), np.mean, n_resamples=4000, method="BCa",
                             rng=np.random.default_rng(3)).confidence_interval
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((expected.low, expected.high), rel=1e-10)
    assert got["p_wilcoxon"] == pytest.approx(sps.wilcoxon(diff).pvalue)
    assert got["excludes_zero"] and got["ci_low"] > 0 and got["p_bootstrap"] < 0.05
    assert not got["wilcoxon_disagrees"] and not got["identical"]
    # 0 lies beyond every one of the 4000 resamples: the bootstrap can only bound p
    assert got["p_bootstrap_bound"] and got["p_bootstrap"] == pytest.approx(2 / 4001)


def test_missing_values_are_dropped_pairwise_and_identical_systems_read_as_identical():
    got = paired_difference([1.0, None, 2.0, float("nan")], [1.0, 5.0, 2.0, 3.0])
    assert got["n"] == 2 and got["mean"] == 0.0 and got["p_wilcoxon"] is None and not got["excludes_zero"]
    assert got["identical"] and (got["ci_low"], got["ci_high"]) == (0.0, 0.0)
    assert paired_difference([], [])["mean"] is None


def test_clusters_are_resampled_whole():
    """Three examples per document with one difference per document: resampling documents is resampling
    the per-document differences (same seed, same number of units)."""
    per_doc = np.random.default_rng(2).normal(0.2, 1.0, 25)
    a = np.repeat(per_doc, 3)
    clustered = paired_difference(list(a), [0.0] * 75, clusters=[f"d{i // 3}" for i in range(75)], n_boot=1500)
    one_per_doc = paired_difference(list(per_doc), [0.0] * 25, n_boot=1500)
    assert clustered["n"] == 75 and clustered["n_clusters"] == 25
    assert (clustered["ci_low"], clustered["ci_high"]) == pytest.approx((one_per_doc["ci_low"], one_per_doc["ci_high"]))
    as_rows = paired_difference(list(a), [0.0] * 75, n_boot=1500)   # 75 "independent" rows: too narrow
    assert as_rows["ci_high"] - as_rows["ci_low"] < 0.8 * (clustered["ci_high"] - clustered["ci_low"])


def test_a_mean_carried_by_a_few_examples_flags_the_wilcoxon_disagreement():
    diff = np.zeros(60)
    diff[:5] = 1.0
    diff[5:9] = -0.1
    got = paired_difference(list(diff), [0.0] * 60, n_boot=2000)
    assert got["excludes_zero"] and got["p_wilcoxon"] == pytest.approx(sps.wilcoxon(diff).pvalue)
    assert got["p_wilcoxon"] > 0.05 and got["wilcoxon_disagrees"]


def test_gain_has_a_paired_interval_only_where_the_decoder_reads_its_context():
    rng = np.random.default_rng(4)
    none = rng.uniform(0.0, 0.2, 50)
    full = none + rng.uniform(0.5, 0.7, 50)
    system = none + 0.6 * (full - none) + rng.normal(0, 0.02, 50)
    got = paired_gain(list(system), list(none), list(full), n_boot=1000)
    assert got["gain"] == pytest.approx((system.mean() - none.mean()) / (full.mean() - none.mean()))
    assert got["ci_low"] < got["gain"] < got["ci_high"] and 0.5 < got["ci_low"] and got["ci_high"] < 0.7
    deaf = paired_gain(list(system), list(none), list(none + rng.normal(0, 0.01, 50)), n_boot=500)
    assert deaf["gain"] is None and deaf["ci_low"] is None
    assert deaf["reason"].startswith("the decoder does not use its context here")
