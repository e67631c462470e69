"""Strata: a per-domain test needs n >= 20 and >= 10 non-zero outcomes, else it is descriptive; above the
minimum its p is a permutation test's, not the bootstrap's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from datacomp.analysis.family import correct_findings
from datacomp.analysis.findings import permutation_p, stratum_test

from document_rows import SETTINGS, analyse, documents


def test_a_stratum_of_17_with_5_non_zero_values_is_descriptive():
    """The issue's F1 strata: n = 17, 5 non-zero: no test, no p, the estimate printed as descriptive."""
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 4, 17)
    y = np.zeros(17)
    y[:5] = rng.uniform(0.2, 0.9, 5)
    result = stratum_test(x, y, SETTINGS)
    assert result["p_value"] is None and result["ci_low"] is None
    assert result["estimate"] == pytest.approx(sps.spearmanr(x, y).statistic)
    assert result["note"] == ("descriptive: n = 17 (5 non-zero) is below the minimum of 20 (10 non-zero) for a "
                              "stratum test")
    many = stratum_test(rng.uniform(1, 4, 40), np.r_[np.zeros(32), rng.uniform(0.1, 1, 8)], SETTINGS)
    assert many["p_value"] is None and "n = 40 (8 non-zero)" in many["note"]   # enough rows, too few non-zero


def test_a_large_enough_stratum_uses_a_permutation_p_and_its_verdict_is_descriptive_wording():
    rows = documents(n=30, seed=31)   # 10 per domain: every stratum descriptive
    analysis = analyse(rows)
    correct_findings(analysis["findings"], "holm", 0.05)
    strata = [f for f in analysis["findings"] if f["kind"] == "stratum"]
    assert strata and all(f["significant"] is False and f["p_value"] is None for f in strata)
    assert strata[0]["verdict"] == ("within one domain, descriptive: n = 10 (10 non-zero) is below the minimum of "
                                    "20 (10 non-zero) for a stratum test")
    big = analyse(documents(n=75, seed=32))   # 25 per domain: tested
    tested = [f for f in big["findings"] if f["kind"] == "stratum"]
    assert all(f["p_value"] is not None and "permutations of the pairing" in f["ci_method"] for f in tested)


def test_the_permutation_p_matches_scipys_permutation_test():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, 24)
    y = -0.4 * x + rng.normal(0, 0.3, 24)
    ours = permutation_p(x, y, 4000, 0)
    theirs = sps.permutation_test((x,), lambda a: sps.spearmanr(a, y).statistic, permutation_type="pairings",
                                  n_resamples=4000, random_state=1).pvalue
    assert ours == pytest.approx(theirs, abs=0.02)
    assert 0.001 < ours < 0.5


def test_the_report_states_the_stratum_rule(planted):
    from datacomp.analysis.methods_text import STRATUM_RULE

    assert STRATUM_RULE.format(n_boot=100) in planted[2]["methods"]["statistics"]
