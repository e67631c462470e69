"""No numerical failure prints as a number: a covariate that (almost) never varies is dropped and the
report says so; a fit whose standard errors are undefined says "not computed: REASON"."""

from __future__ import annotations

import numpy as np

from datacomp.analysis.family import correct_findings
from datacomp.analysis.regression import ols
from datacomp.analysis.render_results import finding_blocks

from document_rows import analyse, documents


def _quickstart_lengths(rows):
    """99 of 100 windows at 64 tokens, one at 40 (the quickstart's F21)."""
    for i, row in enumerate(rows):
        row["win_n_tokens"] = 40 if i == 0 else 64
    return rows


def test_a_length_that_varies_in_one_row_of_100_is_dropped_and_the_report_says_so():
    analysis = analyse(_quickstart_lengths(documents(n=100, seed=11)))
    assert analysis["dropped_covariates"] == ["log length (varies in 1 of 100 rows, under 5%)"]
    for fit in [*analysis["ols"].values(), analysis["joint"]["ols"]]:
        assert "log_len (varies in 1 of 100 rows, under 5%)" in fit["dropped"]
        assert "log_len" not in [t["term"] for t in fit["terms"]]
        assert fit["note"] is None and all(t["p_value"] is not None and t["se"] > 0 for t in fit["terms"])
    partial = next(f for f in analysis["findings"] if f["kind"] == "partial" and f["x"] == "enc_entropy")
    assert partial["covariates"] == ["domain[prose]", "domain[wiki]"]   # no length column
    correct_findings(analysis["findings"], "holm", 0.05)
    for i, f in enumerate(analysis["findings"], start=1):
        f["id"] = f"F{i}"
    blocks = []
    finding_blocks({"scale": 100, "findings": {"items": analysis["findings"], "compressors": [analysis],
                                               "sweeps": [], "skipped": [], "correction": "holm", "alpha": 0.05,
                                               "metric": "f1"}}, blocks)
    text = " ".join(str(b[1]) for b in blocks if b[0] == "p")
    assert "Covariates left out of every model: log length (varies in 1 of 100 rows, under 5%)." in text


def test_a_leverage_one_row_gives_no_standard_error_and_the_slope_says_not_computed():
    """A domain held by one document: its indicator fits that row exactly (leverage 1), where HC3 is 0/0."""
    rng = np.random.default_rng(2)
    n = 40
    data = {"f1": rng.normal(0.5, 0.1, n), "enc_entropy": rng.uniform(1, 4, n),
            "domain": np.array(["code"] * 20 + ["prose"] * 19 + ["wiki"])}
    fit = ols(data, "f1", ["enc_entropy"], ["domain"])
    assert fit.note == ("not computed: 1 row(s) with leverage 1 (a level or value held by one observation), "
                        "where HC3 standard errors are 0/0")
    assert fit.term("enc_entropy").coef is not None and fit.term("enc_entropy").p_value is None
    assert fit.df is None and fit.cov == ()

    rows = documents(n=60, seed=12)
    rows[0]["domain"] = "math"   # one math document
    analysis = analyse(rows)
    correct_findings(analysis["findings"], "holm", 0.05)
    slope = next(f for f in analysis["findings"] if f["kind"] == "ols" and f["x"] == "enc_entropy")
    assert slope["p_value"] is None and slope["ci_low"] is None
    assert slope["verdict"].startswith("not computed: 1 row(s) with leverage 1")
    assert analysis["threshold"] is None or analysis["threshold"]["x"] is None


def test_zero_residual_variance_is_not_computed():
    x = np.arange(30, dtype=float)
    fit = ols({"y": 2 * x + 1, "x": x}, "y", ["x"])
    assert fit.note == ("not computed: zero residual variance (the regressors fit the response exactly)")
    assert fit.term("x").p_value is None
