"""OLS with HC3 (t inference) against a hand computation; cluster-robust errors on repeated documents; VIFs
against 1 / (1 - R^2); inverse prediction against statsmodels' prediction band."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from datacomp.analysis.regression import inverse_prediction, ols, predict_mean, vifs


def planted_frame(n=400, enc_slope=-0.08, seed=0):
    rng = np.random.default_rng(seed)
    domain = rng.choice(["code", "prose", "wiki"], size=n)
    enc = rng.uniform(1.0, 5.0, size=n)
    dec = rng.uniform(1.0, 5.0, size=n)
    log_len = rng.normal(6.0, 0.5, size=n)
    shift = {"code": -0.05, "prose": 0.0, "wiki": 0.02}
    noise = rng.normal(scale=0.05 + 0.02 * enc, size=n)  # heteroscedastic: HC3 matters
    f1 = 0.95 + enc_slope * enc + 0.0 * dec + 0.01 * log_len + np.array([shift[d] for d in domain]) + noise
    return {"f1": f1, "enc_entropy": enc, "dec_entropy": dec, "log_len": log_len, "domain": domain}


def test_ols_hc3_matches_a_hand_computation():
    data = planted_frame(seed=1)
    fit = ols(data, "f1", ["enc_entropy", "dec_entropy", "log_len"], ["domain"])
    levels = sorted(set(data["domain"]))
    X = np.column_stack([np.ones(400)] + [(data["domain"] == lv).astype(float) for lv in levels[1:]]
                        + [data["enc_entropy"], data["dec_entropy"], data["log_len"]])
    y = data["f1"]
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    resid = y - X @ beta
    bread = np.linalg.inv(X.T @ X)
    leverage = np.einsum("ij,jk,ik->i", X, bread, X)
    meat = X.T @ (X * (resid**2 / (1 - leverage) ** 2)[:, None])
    se = np.sqrt(np.diag(bread @ meat @ bread))
    assert list(fit.exog_names) == ["Intercept", "C(domain)[T.prose]", "C(domain)[T.wiki]",
                                    "enc_entropy", "dec_entropy", "log_len"]
    assert [t.coef for t in fit.terms] == pytest.approx(list(beta), rel=1e-8)
    assert [t.se for t in fit.terms] == pytest.approx(list(se), rel=1e-8)
    enc = fit.term("enc_entropy")
    t = enc.coef / enc.se
    df = 400 - X.shape[1]   # HC3 inference with t on the residual degrees of freedom, not the normal
    assert fit.df == df and fit.cov_type == "HC3"
    assert enc.p_value == pytest.approx(2 * sps.t.sf(abs(t), df), rel=1e-8)
    assert enc.ci_low == pytest.approx(enc.coef - sps.t.ppf(0.975, df) * enc.se, rel=1e-8)
    assert enc.ci_low < -0.08 < enc.ci_high  # covers the planted slope
    assert fit.term("dec_entropy").p_value > 0.01  # planted zero
    assert fit.r2 == pytest.approx(1 - resid @ resid / np.sum((y - y.mean()) ** 2), rel=1e-10)
    assert fit.n == 400 and fit.note is None


def test_ols_drops_what_it_cannot_estimate_and_says_so():
    data = planted_frame(n=50)
    data["dec_entropy"] = np.full(50, 2.0)
    data["domain"] = np.array(["prose"] * 50)
    fit = ols(data, "f1", ["enc_entropy", "dec_entropy"], ["domain"])
    assert fit.formula == "f1 ~ enc_entropy"
    assert fit.dropped == ("dec_entropy (constant)", "C(domain) (a single level)")
    few = ols({k: v[:3] for k, v in planted_frame().items()}, "f1", ["enc_entropy", "dec_entropy"])
    assert few.terms == () and "n=3 complete rows is too few for 3 parameters" in few.note
    with pytest.raises(ValueError, match="cannot be used in a formula"):
        ols({"a b": [1.0]}, "a b", [])


def test_inverse_prediction_agrees_with_the_prediction_band():
    import pandas as pd
    import statsmodels.formula.api as smf

    data = planted_frame(seed=3)
    fit = ols(data, "f1", ["enc_entropy", "log_len"])
    target = 0.75
    threshold = inverse_prediction(fit, "enc_entropy", target)
    assert threshold.bounded and threshold.ci_low < threshold.x < threshold.ci_high
    reference = smf.ols("f1 ~ enc_entropy + log_len", pd.DataFrame(data)).fit(cov_type="HC3", use_t=True)
    mean_len = float(np.mean(data["log_len"]))

    def band(x):
        frame = pd.DataFrame({"enc_entropy": [x], "log_len": [mean_len]})
        return reference.get_prediction(frame).summary_frame(alpha=0.05).iloc[0]

    assert band(threshold.x)["mean"] == pytest.approx(target, abs=1e-9)
    # at the interval's ends the band's edge touches the target (slope negative: upper edge at the high end)
    assert band(threshold.ci_low)["mean_ci_lower"] == pytest.approx(target, abs=1e-9)
    assert band(threshold.ci_high)["mean_ci_upper"] == pytest.approx(target, abs=1e-9)
    mean, se = predict_mean(fit, "enc_entropy", [threshold.x])
    assert mean[0] == pytest.approx(target) and se[0] == pytest.approx(band(threshold.x)["mean_se"])


def test_inverse_prediction_is_unbounded_without_an_effect():
    data = planted_frame(enc_slope=0.0, seed=4)
    data["f1"] = np.random.default_rng(1).normal(0.8, 0.05, size=400)  # no relation at all
    fit = ols(data, "f1", ["enc_entropy"])
    threshold = inverse_prediction(fit, "enc_entropy", 0.7)
    if fit.term("enc_entropy").p_value < 0.05:
        pytest.skip("the random draw happened to be significant")
    assert not threshold.bounded and threshold.ci_low is None and "not significantly different" in threshold.note


def test_cluster_robust_errors_count_a_document_once():
    """The same 40 documents under 5 decoders (the gap sweep's layout) with a document-level predictor:
    HC3 treats the 200 rows as independent and shrinks its slope's error about sqrt(5)-fold; clustering
    by document does not. Checked against statsmodels' cov_type="cluster" directly."""
    import pandas as pd
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(0)
    n_docs, n_decoders = 40, 5
    entropy = rng.uniform(1, 4, n_docs)
    doc_effect = rng.normal(0, 0.2, n_docs)
    rows = {"f1": [], "enc_entropy": [], "doc": []}
    for _ in range(n_decoders):
        for d in range(n_docs):
            rows["f1"].append(0.9 - 0.05 * entropy[d] + doc_effect[d] + rng.normal(0, 0.01))
            rows["enc_entropy"].append(entropy[d])
            rows["doc"].append(f"d{d}")
    clustered = ols(rows, "f1", ["enc_entropy"], clusters=rows["doc"])
    naive = ols(rows, "f1", ["enc_entropy"])
    reference = smf.ols("f1 ~ enc_entropy", pd.DataFrame(rows)).fit(
        cov_type="cluster", cov_kwds={"groups": pd.Categorical(rows["doc"]).codes}, use_t=True)
    term = clustered.term("enc_entropy")
    assert term.se == pytest.approx(float(reference.bse["enc_entropy"]), rel=1e-10)
    assert term.p_value == pytest.approx(float(reference.pvalues["enc_entropy"]), rel=1e-8)
    assert clustered.n_clusters == 40 and clustered.df == 39 and clustered.cov_type == "cluster"
    assert clustered.to_dict()["n_clusters"] == 40
    assert 1.8 < term.se / naive.term("enc_entropy").se < 2.8   # about sqrt(5): each document counted once


def test_vifs_are_one_over_one_minus_r_squared_of_each_regressor_on_the_others():
    rng = np.random.default_rng(2)
    enc = rng.normal(size=300)
    dec = enc + rng.normal(scale=0.2, size=300)      # nearly collinear with enc
    length = rng.normal(size=300)
    got = vifs({"enc": enc, "dec": dec, "length": length}, ["enc", "dec", "length"])
    for name, column, others in (("enc", enc, [dec, length]), ("dec", dec, [enc, length])):
        design = np.column_stack([np.ones(300), *others])
        resid = column - design @ np.linalg.lstsq(design, column, rcond=None)[0]
        r2 = 1 - resid @ resid / np.sum((column - column.mean()) ** 2)
        assert got[name] == pytest.approx(1 / (1 - r2), rel=1e-8)
    assert got["enc"] > 5 and got["length"] < 1.1
