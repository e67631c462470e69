"""The result blocks print no numerical failure as a number: a regression whose standard errors are not
finite (HC3 with a leverage-1 row) says "not computed" with its reason, not p = 1 beside an empty CI."""

from __future__ import annotations

import numpy as np

from datacomp.analysis.regression import ols
from datacomp.analysis.render_results import _ols_table


def leverage_one_fit() -> dict:
    """The issue's shape: 99 of 100 windows share one length, so log length sets one row apart."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=100)
    data = {"f1": x + rng.normal(size=100), "x": x, "log_len": np.log([64.0] * 99 + [40.0]),
            "domain": list(rng.choice(["a", "b", "c", "d"], size=100))}
    return ols(data, "f1", ["x", "log_len"], ["domain"]).to_dict()


def test_terms_with_an_infinite_standard_error_say_not_computed_and_why():
    fit = leverage_one_fit()
    assert all(not np.isfinite(t["se"]) and t["p_value"] == 1.0 for t in fit["terms"])   # the raw failure
    blocks: list = []
    _ols_table(fit, 100.0, blocks, "One-predictor model (x)")
    (table,) = [b for b in blocks if b[0] == "table"]
    for row in table[2]:
        assert row[3] == "not computed" and row[4] == "not computed", row
    (note,) = [b[1] for b in blocks if b[0] == "p" and "not computed" in b[1]]
    assert note.startswith("CI and p of Intercept, ") and "leverage 1" in note


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
