"""Every statistic against an independent computation on data with a planted relationship."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from datacomp.analysis import stats


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
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert result.n == 300
    assert result.ci_low < result.estimate < result.ci_high
    assert "percentile bootstrap, 200 resamples" in result.ci_method


def test_pearson_by_hand_and_bootstrap_by_hand():
    x, y = planted(n=80, seed=5)
    r_hand = np.sum((x - x.mean()) * (y - y.mean())) / np.sqrt(
        np.sum((x - x.mean()) ** 2) * np.sum((y - y.mean()) ** 2))
    result = stats.correlation(x, y, method="pearson", n_boot=300, seed=11)
    assert result.estimate == pytest.approx(r_hand, rel=1e-12)
    # the same resamples drawn by hand, one np.corrcoef each
    rng = np.random.default_rng(11)
    index = rng.integers(0, 80, size=(300, 80))
    draws = [np.corrcoef(x[i], y[i])[0, 1] for i in index]
    assert result.ci_low == pytest.approx(np.percentile(draws, 2.5), rel=1e-10)
    assert result.ci_high == pytest.approx(np.percentile(draws, 97.5), rel=1e-10)


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
    assert result.p_value == pytest.approx(2 * sps.t.sf(abs(t), df), rel=1e-8)
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
    assert result.estimate < -0.3 and result.p_value < 1e-10
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


@pytest.mark.parametrize("ours,theirs", [(stats.holm, "holm"), (stats.benjamini_hochberg, "fdr_bh")])
def test_corrections_match_statsmodels(ours, theirs):
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(0, 0.01, 5), rng.uniform(0, 1, 15), [0.03, 0.03]])
    expected = multipletests(p, method=theirs)[1]
    assert ours(list(p)) == pytest.approx(list(expected), rel=1e-12)


def test_corrections_leave_missing_p_values_out_of_the_family():
    from statsmodels.stats.multitest import multipletests

    adjusted = stats.holm([0.01, None, 0.04, float("nan")])
    expected = multipletests([0.01, 0.04], method="holm")[1]
    assert adjusted[1] is None and adjusted[3] is None
    assert [adjusted[0], adjusted[2]] == pytest.approx(list(expected))
    with pytest.raises(ValueError, match="unknown correction 'bonf'"):
        stats.adjust([0.1], "bonf")


def test_binned_means_use_quantile_bins_and_t_intervals():
    rng = np.random.default_rng(9)
    x = rng.uniform(0, 10, size=1000)
    y = 2.0 - 0.1 * x + rng.normal(scale=0.2, size=1000)
    bins = stats.binned_means(x, y, n_bins=4)
    assert len(bins) == 4 and sum(b.n for b in bins) == 1000
    edges = np.quantile(x, [0, 0.25, 0.5, 0.75, 1])
    first = (x >= edges[0]) & (x < edges[1])
    assert bins[0].n == first.sum()
    assert bins[0].y_mean == pytest.approx(y[first].mean())
    half = sps.t.ppf(0.975, first.sum() - 1) * y[first].std(ddof=1) / np.sqrt(first.sum())
    assert bins[0].ci_high - bins[0].y_mean == pytest.approx(half)
    assert [b.y_mean for b in bins] == sorted([b.y_mean for b in bins], reverse=True)  # planted decrease


def test_binned_means_with_heavy_ties_merge_bins():
    bins = stats.binned_means([1, 1, 1, 1, 1, 1, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8], n_bins=4)
    assert sum(b.n for b in bins) == 8 and len(bins) < 4


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
