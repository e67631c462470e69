"""A family holds no near-duplicates: two predictors whose |Spearman| exceeds 0.9 on the same rows are one
question, the earlier in PRIMARY_ORDER primary, the other's tests sensitivity outside the family."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from datacomp.analysis.claims import paper_claims
from datacomp.analysis.family import correct_findings
from datacomp.analysis.multiple_testing import holm

from document_rows import analyse, documents


def _rows(noise):
    rng = np.random.default_rng(21)
    rows = documents(n=80, seed=20)
    for row in rows:   # the trained encoder's entropy: the untrained one's plus noise (the quickstart: r 0.93)
        row["win_trained_enc_entropy"] = row["win_enc_entropy"] + float(rng.normal(0, noise))
    return rows


def test_the_trained_encoder_entropy_that_duplicates_the_encoders_is_a_sensitivity_test():
    rows = _rows(0.1)
    analysis = analyse(rows)
    rho = abs(sps.spearmanr([r["win_enc_entropy"] for r in rows], [r["win_trained_enc_entropy"] for r in rows]).statistic)
    assert rho > 0.9
    assert analysis["near_duplicates"]["trained_enc_entropy"] == {"of": "enc_entropy", "rho": pytest.approx(rho)}
    correct_findings(analysis["findings"], "holm", 0.05)
    trained = [f for f in analysis["findings"] if f["x"] == "trained_enc_entropy" and f["kind"] in ("correlation", "partial")]
    assert trained and all(f["role"] == "sensitivity" and f["p_adjusted"] is None for f in trained)
    assert trained[0]["verdict"].startswith(f"sensitivity, outside the family (a near-duplicate of enc_entropy: "
                                            f"|rho| = {rho:.2f} on the same rows): ")
    primary = [f for f in analysis["findings"] if f["role"] == "primary"]
    assert not any(f["x"] == "trained_enc_entropy" for f in primary)
    assert [f["p_adjusted"] for f in primary] == pytest.approx(holm([f["p_value"] for f in primary]))
    claims = {c["claim"]: c["status"] for c in paper_claims([analysis], [], "holm")}
    assert claims["1: encoder entropy correlates negatively with quality (under the trained encoder)"].startswith(
        f"sensitivity only, unadjusted (near-duplicate of enc_entropy, |rho| = {rho:.2f}): reproduced")


def test_predictors_below_the_limit_stay_separate_questions():
    analysis = analyse(_rows(1.5))
    assert "trained_enc_entropy" not in analysis["near_duplicates"]
    assert any(f["x"] == "trained_enc_entropy" and f["role"] == "primary" for f in analysis["findings"])
