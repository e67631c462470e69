"""Verdict words by explicit rules (verdicts.py): reproduced, pooled only (with the within-domain CI),
confounded only where the within-domain interval shows it, length named only where it matters, and
intervals beside an adjusted p labelled unadjusted."""

from __future__ import annotations

from datacomp.analysis.claims import paper_claims
from datacomp.analysis.family import correct_findings
from datacomp.analysis.verdicts import RULES, reproduction

from document_rows import analyse, documents

def _test(estimate, low, high, significant, kind="correlation", **extra):
    return {"kind": kind, "role": "primary", "estimate": estimate, "ci_low": low, "ci_high": high,
            "p_value": 0.01 if significant else 0.2, "p_adjusted": 0.01 if significant else 0.08, "n": 100,
            "confidence": 0.95, "significant": significant,
            "direction": "negative" if estimate < 0 else "positive", **extra}

POOLED = _test(-0.34, -0.5, -0.16, True)

def test_the_quickstart_within_domain_rho_that_fails_only_after_holm_is_pooled_only_not_confounded():
    """The issue's case: within -0.22, unadjusted CI [-0.433, -0.015] containing the pooled -0.34."""
    within = _test(-0.22, -0.433, -0.015, False, kind="partial")
    verdict = reproduction(POOLED, within, "negative", "holm")
    assert verdict["word"] == "pooled only"
    assert verdict["text"] == ("pooled only: not significant within domains (partial rho = -0.22, 95% CI "
                               "[-0.433, -0.015] (unadjusted), holm-adjusted p = 0.08, n = 100); its CI contains "
                               "the pooled estimate -0.34, so no confound is shown")

def test_confounded_only_when_the_within_domain_interval_excludes_the_pooled_estimate_or_sits_on_0():
    excludes = reproduction(POOLED, _test(-0.05, -0.2, 0.1, False, kind="partial"), "negative", "holm")
    assert excludes["word"] == "confounded"
    assert excludes["text"].startswith("confounded by domain: the within-domain CI excludes the pooled estimate -0.34")
    near_zero = reproduction(_test(-0.34, -0.9, -0.1, True), _test(0.05, -0.4, 0.3, False, kind="partial"),
                             "negative", "holm")
    assert near_zero["text"].startswith("confounded by domain: within domains the estimate is near 0 (|rho| < 0.1) "
                                        "and its CI contains 0")
    both = reproduction(POOLED, _test(-0.3, -0.45, -0.1, True, kind="partial"), "negative", "holm")
    assert both == {"word": "reproduced", "text": "reproduced (pooled and within domains)"}
    assert reproduction(POOLED, _test(0.3, 0.1, 0.45, True, kind="partial"), "negative", "holm")["word"] == "opposite"

def test_length_is_named_only_when_it_is_a_covariate_and_moves_the_estimate():
    moved = _test(-0.02, -0.2, 0.15, False, kind="partial", covariates=["log_length", "domain[b]"],
                  estimate_without_length=-0.2)
    assert reproduction(POOLED, moved, "negative", "holm")["text"].startswith("confounded by domain or length:")
    still = {**moved, "estimate_without_length": -0.03}
    assert reproduction(POOLED, still, "negative", "holm")["text"].startswith("confounded by domain:")
    absent = {**moved, "covariates": ["domain[b]"]}
    assert reproduction(POOLED, absent, "negative", "holm")["text"].startswith("confounded by domain:")

def test_a_constant_length_is_never_named_in_a_claim():
    """99 of 100 windows at one length: no length covariate, so a confound is by domain only."""
    rows = documents(n=90, seed=3, enc_slope=0.0, domain_shift=0.15)
    for i, row in enumerate(rows):
        row["win_n_tokens"] = 40 if i == 0 else 64
    analysis = analyse(rows)
    correct_findings(analysis["findings"], "holm", 0.05)
    status = paper_claims([analysis], [], "holm")[0]["status"]
    assert status.startswith("confounded by domain: ") and "length" not in status.split("(")[0]

def test_the_rules_are_stated_for_the_methods_section():
    assert "'confounded' only when the within-domain CI excludes the pooled estimate, or contains 0 with " \
           "|estimate| < 0.1" in RULES
    assert "CIs printed beside an adjusted p are unadjusted and labelled so" in RULES

def test_the_report_prints_the_rules_in_its_methods_section(planted):
    _, paths, data = planted
    assert RULES in data["methods"]["statistics"]
    assert f"- {RULES}" in paths["markdown"].read_text()
