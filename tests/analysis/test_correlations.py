"""Correlations against independent computations on data with a planted relationship: scipy's estimates
and classical p-values, scipy.stats.bootstrap's BCa interval on the same resamples, and the interval
agreeing with its own p-value (including a case where the old percentile interval and scipy's p did not)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from datacomp.analysis import correlations as stats
from datacomp.analysis.bootstrap import resample_index


def planted(n=300, rho=0.6, seed=1):
    """x, y bivariate normal with correlation rho."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)
    return x, y


@pytest.mark.parametrize("method,reference", [
    ("pearson", sps.pearsonr), ("spearman", sps.spearmanr), ("kendall", sps.kendalltau)])
def test_correlation_matches_scipy(method, reference):
    x, y = planted()
    result = stats.correlation(x, y, method=method, n_boot=200, seed=3)
    expected = reference(x, y)
    assert result.estimate == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_classical == pytest.approx(expected.pvalue, rel=1e-9)
    # rho ~ 0.6 with n = 300: 0 lies beyond every resample, so p is scipy's (below 2 / 201)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9) and "capped at 2/(n_boot + 1)" in result.note
    assert result.n == 300
    assert result.ci_low < result.estimate < result.ci_high
    assert "BCa bootstrap, 200 resamples" in result.ci_method


def test_pearson_by_hand_and_the_interval_is_scipys_bca_on_the_same_resamples():
    x, y = planted(n=80, seed=5)
    r_hand = np.sum((x - x.mean()) * (y - y.mean())) / np.sqrt(
        np.sum((x - x.mean()) ** 2) * np.sum((y - y.mean()) ** 2))
    result = stats.correlation(x, y, method="pearson", n_boot=300, seed=11)
    assert result.estimate == pytest.approx(r_hand, rel=1e-12)
    expected = sps.bootstrap((x, y), lambda a, b, axis=-1: stats.pearson_rows(a, b), paired=True, vectorized=True,
                             n_resamples=300, method="BCa", rng=np.random.default_rng(11)).confidence_interval
    assert (result.ci_low, result.ci_high) == pytest.approx((expected.low, expected.high), rel=1e-10)
    # and those resamples are the ones drawn by hand
    index = np.random.default_rng(11).integers(0, 80, size=(300, 80))
    assert np.array_equal(resample_index(80, 300, 11), index)


def test_the_interval_and_the_p_value_agree_on_every_sample():
    """CI excludes 0 exactly when p < 0.05, over many small heavy-tailed samples of all three methods."""
    checked = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(12, 40))
        x = rng.normal(size=n)
        y = 0.3 * x + rng.standard_t(2, size=n)
        for method in ("pearson", "spearman"):
            result = stats.correlation(x, y, method, n_boot=400, seed=seed)
            assert (result.ci_low > 0 or result.ci_high < 0) == (result.p_value < 0.05), (seed, method, result)
            checked += result.p_value < 0.1
    assert checked > 10   # the boundary region was visited


def test_a_case_where_the_percentile_interval_and_scipys_p_disagreed_now_agrees():
    """Zero-inflated quality (most documents at the floor), n = 40: the old report's percentile-bootstrap CI
    excluded 0 while scipy's Spearman p was 0.088; the BCa interval and its own p agree."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=40)
    y = np.where(rng.uniform(size=40) < 0.7, 0.0, np.abs(0.2 * x + rng.normal(size=40)))
    index = resample_index(40, 1000, 0)
    old = [np.corrcoef(a, b)[0, 1] for a, b in zip(sps.rankdata(x[index], axis=-1), sps.rankdata(y[index], axis=-1))]
    old_low, old_high = np.nanpercentile(old, [2.5, 97.5])
    assert old_high < 0 and sps.spearmanr(x, y).pvalue > 0.05          # the old disagreement
    new = stats.correlation(x, y, "spearman", n_boot=1000, seed=0)
    assert new.p_classical == pytest.approx(sps.spearmanr(x, y).pvalue)
    assert (new.ci_high < 0) == (new.p_value < 0.05)


def test_kendall_rows_equal_scipy_tau_b_on_tied_resamples():
    rng = np.random.default_rng(8)
    x = np.round(rng.normal(size=50), 1)
    y = np.round(x + rng.normal(size=50), 1)
    index = rng.integers(0, 50, size=(30, 50))
    expected = [sps.kendalltau(x[i], y[i]).statistic for i in index]
    assert stats.kendall_rows(x, y, index, max_elements=20_000) == pytest.approx(expected, abs=1e-12)


def test_bootstrap_is_deterministic_with_a_seed_and_changes_without():
    x, y = planted()
    a = stats.correlation(x, y, "spearman", n_boot=300, seed=7)
    b = stats.correlation(x, y, "spearman", n_boot=300, seed=7)
    c = stats.correlation(x, y, "spearman", n_boot=300, seed=8)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)


def test_bootstrap_ci_covers_the_true_value_most_of_the_time():
    """On 40 planted samples the 90% Pearson CI should cover rho = 0.5 roughly 90% of the time."""
    covered = 0
    for seed in range(40):
        x, y = planted(n=150, rho=0.5, seed=100 + seed)
        result = stats.correlation(x, y, "pearson", n_boot=400, seed=seed, confidence=0.9)
        covered += result.ci_low <= 0.5 <= result.ci_high
    assert 30 <= covered <= 40  # binomial(40, 0.9): P(< 30) is about 0.5%


def test_small_n_and_constant_input_give_a_reason_not_nan():
    tiny = stats.correlation([1, 2, 3], [2, 1, 3], "pearson", min_n=5)
    assert tiny.estimate is None and tiny.p_value is None and "n=3 is below the minimum of 5" in tiny.note
    flat = stats.correlation(np.arange(20), np.full(20, 0.7), "spearman")
    assert flat.estimate is None and "y is constant" in flat.note
    missing = stats.correlation([1, 2, np.nan, 4, 5, 6], [1, 2, 3, None, 5, 7], "pearson", min_n=3)
    assert missing.n == 4


def test_partial_correlation_single_covariate_matches_the_textbook_formula():
    rng = np.random.default_rng(2)
    z = rng.normal(size=400)
    x = z + rng.normal(size=400)
    y = z + 0.3 * x + rng.normal(size=400)
    rxy, rxz, ryz = np.corrcoef([x, y, z])[[0, 0, 1], [1, 2, 2]]
    textbook = (rxy - rxz * ryz) / np.sqrt((1 - rxz**2) * (1 - ryz**2))
    result = stats.partial_correlation(x, y, z[:, None], ["z"], method="pearson", n_boot=200)
    assert result.estimate == pytest.approx(textbook, rel=1e-10)
    df = 400 - 3
    t = textbook * np.sqrt(df / (1 - textbook**2))
    assert result.p_classical == pytest.approx(2 * sps.t.sf(abs(t), df), rel=1e-8)
    assert (result.ci_low > 0 or result.ci_high < 0) == (result.p_value < 0.05)
    assert result.ci_low < textbook < result.ci_high


def test_partial_correlation_with_length_and_domain_matches_the_precision_matrix():
    """Residualising on log length + domain dummies equals -P_xy / sqrt(P_xx P_yy) of the joint precision."""
    rng = np.random.default_rng(4)
    n = 500
    domain = rng.choice(["code", "news", "prose"], size=n)
    log_len = rng.normal(6, 1, size=n)
    shift = {"code": 1.5, "news": 0.0, "prose": -0.5}
    x = 0.4 * log_len + np.array([shift[d] for d in domain]) + rng.normal(size=n)
    y = -0.5 * x + 0.8 * log_len + rng.normal(size=n)  # planted partial effect of x on y
    covariates, names = stats.covariate_matrix(log_len, domain)
    assert names == ["log_length", "domain[news]", "domain[prose]"]
    result = stats.partial_correlation(x, y, covariates, names, method="pearson", n_boot=100)
    precision = np.linalg.inv(np.cov(np.column_stack([x, y, covariates]), rowvar=False))
    expected = -precision[0, 1] / np.sqrt(precision[0, 0] * precision[1, 1])
    assert result.estimate == pytest.approx(expected, rel=1e-8)
    assert result.estimate < -0.3 and result.p_classical < 1e-10 and result.ci_high < 0
    assert result.covariates == tuple(names)


def test_partial_spearman_ranks_before_residualising():
    rng = np.random.default_rng(6)
    z = rng.normal(size=200)
    x = np.exp(z + rng.normal(size=200))
    y = np.exp(z + rng.normal(size=200))
    result = stats.partial_correlation(x, y, z[:, None], ["z"], method="spearman", n_boot=50)
    rx, ry, rz = sps.rankdata(x), sps.rankdata(y), sps.rankdata(z)
    expected = stats.partial_correlation(rx, ry, rz[:, None], method="pearson", n_boot=10).estimate
    assert result.estimate == pytest.approx(expected, rel=1e-10)


def test_compare_predictors_finds_the_planted_stronger_predictor():
    rng = np.random.default_rng(12)
    strong = rng.normal(size=400)
    weak = rng.normal(size=400)
    y = -1.0 * strong - 0.2 * weak + rng.normal(size=400)
    result = stats.compare_predictors(y, strong, weak, ("entropy", "surprisal"), n_boot=300)
    assert result.stronger == "entropy" and result.ci_low > 0
    assert result.first_estimate == pytest.approx(sps.spearmanr(strong, y).statistic)
    null = stats.compare_predictors(y, weak, weak + rng.normal(scale=1e-3, size=400), ("a", "b"), n_boot=200)
    assert null.stronger is None and null.ci_low < 0 < null.ci_high


def test_resample_ranks_equal_scipy_rankdata_of_each_resample():
    rng = np.random.default_rng(13)
    values = np.round(rng.normal(size=60), 1)  # rounding makes ties among the originals too
    index = rng.integers(0, 60, size=(50, 60))
    assert np.array_equal(stats.resample_ranks(values, index), sps.rankdata(values[index], axis=-1))
