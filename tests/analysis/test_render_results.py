"""The result blocks print no numerical failure as a number: a regression whose standard errors are not
finite (HC3 with a leverage-1 row) says "not computed" with its reason, not p = 1 beside an empty CI."""

from __future__ import annotations

import numpy as np

from datacomp.analysis.regression import ols
from datacomp.analysis.render_results import _ols_table


def leverage_one_fit() -> dict:
    """A domain held by one document: its indicator fits that row exactly (leverage 1), where HC3 is 0/0."""
    rng = np.random.default_rng(2)
    data = {"f1": rng.normal(0.5, 0.1, 40), "x": rng.uniform(1, 4, 40),
            "domain": np.array(["code"] * 20 + ["prose"] * 19 + ["wiki"])}
    return ols(data, "f1", ["x"], ["domain"]).to_dict()


def test_terms_without_a_standard_error_say_not_computed_and_why():
    fit = leverage_one_fit()
    assert all(t["se"] is None and t["p_value"] is None for t in fit["terms"])   # the fit reports no number
    blocks: list = []
    _ols_table(fit, 100.0, blocks, "One-predictor model (x)")
    (table,) = [b for b in blocks if b[0] == "table"]
    for row in table[2]:
        assert row[3] == "not computed" and row[4] == "not computed", row
    (note,) = [b[1] for b in blocks if b[0] == "p" and b[1].startswith("CI and p of")]
    assert note == ("CI and p of Intercept, C(domain)[T.prose], C(domain)[T.wiki], x not computed: 1 row(s) with "
                    "leverage 1 (a level or value held by one observation), where HC3 standard errors are 0/0.")


def test_the_issues_length_covariate_that_sets_one_row_apart_is_left_out_and_said_so():
    """99 of 100 windows of one length: log length is dropped, so the rest of the fit keeps finite errors."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=100)
    data = {"f1": x + rng.normal(size=100), "x": x, "log_len": np.log([64.0] * 99 + [40.0]),
            "domain": list(rng.choice(["a", "b", "c", "d"], size=100))}
    fit = ols(data, "f1", ["x", "log_len"], ["domain"]).to_dict()
    assert fit["dropped"] == ["log_len (varies in 1 of 100 rows, under 5%)"]
    assert all(np.isfinite(t["se"]) for t in fit["terms"])
    blocks: list = []
    _ols_table(fit, 100.0, blocks, "model")
    assert "left out: log_len (varies in 1 of 100 rows, under 5%)" in blocks[0][1]


def test_a_fit_with_finite_errors_prints_its_numbers():
    rng = np.random.default_rng(1)
    x = rng.normal(size=40)
    fit = ols({"y": 2 * x + rng.normal(size=40), "x": x}, "y", ["x"]).to_dict()
    blocks: list = []
    _ols_table(fit, 100.0, blocks, "model")
    (table,) = [b for b in blocks if b[0] == "table"]
    slope = next(row for row in table[2] if row[0] == "x")
    assert slope[3].startswith("[") and slope[4] != "not computed"
    assert not any(b[0] == "p" and "not computed" in b[1] for b in blocks)
