"""The knowledge-gap sweep pools the same documents under several decoders: its slope's errors are
clustered by document (checked against statsmodels), the number of clusters is stated, and the guideline
quotes it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from datacomp.analysis.family import correct_findings
from datacomp.analysis.findings import AnalysisSettings
from datacomp.analysis.guidelines import knowledge_gap
from datacomp.analysis.sweeps import gap_sweep_analysis


def sweep_rows(n_docs=30, n_decoders=4, seed=0):
    rng = np.random.default_rng(seed)
    doc_effect = rng.normal(0, 0.1, n_docs)
    rows = []
    for k in range(n_decoders):
        for d in range(n_docs):
            gap = 0.05 + 0.1 * k + rng.normal(0, 0.01)
            rows.append({"compressor_id": f"ae-dec{k}", "method": "autoencoder", "ratio": 4.0, "encoder_id": "enc",
                         "decoder_id": f"dec{k}", "doc_id": f"doc{d}", "domain": ["a", "b"][d % 2],
                         "n_chars": 1000 + 37 * d, "n_examples": 1, "n_window_scored": 1, "win_n_tokens": 40 + d,
                         "win_gap_js": gap, "win_enc_entropy": 2.0 + 0.03 * d,
                         "f1": 0.8 - 0.6 * gap + doc_effect[d] + rng.normal(0, 0.01)})
    return rows


def test_the_pooled_slope_is_clustered_by_document_and_says_how_many_clusters():
    rows = sweep_rows()
    [sweep] = gap_sweep_analysis(rows, AnalysisSettings(n_boot=100, min_n=10))
    correct_findings(sweep["findings"], "holm", 0.05)
    slope = next(f for f in sweep["findings"] if f["role"] == "primary")
    assert slope["method"] == "ols-cluster slope" and slope["n"] == 120 and slope["n_clusters"] == 30
    assert sweep["n_clusters"] == 30 and sweep["predictors"]["source"] == "window"
    frame = pd.DataFrame({"f1": [r["f1"] for r in rows], "gap_js": [r["win_gap_js"] for r in rows],
                          "enc_entropy": [r["win_enc_entropy"] for r in rows],
                          "log_len": [np.log(r["win_n_tokens"]) for r in rows],
                          "domain": [r["domain"] for r in rows]})
    reference = smf.ols("f1 ~ gap_js + enc_entropy + log_len + C(domain)", frame).fit(
        cov_type="cluster", cov_kwds={"groups": pd.Categorical([r["doc_id"] for r in rows]).codes}, use_t=True)
    assert slope["estimate"] == pytest.approx(float(reference.params["gap_js"]), rel=1e-8)
    assert slope["ci_low"] == pytest.approx(float(reference.conf_int().loc["gap_js", 0]), rel=1e-8)
    assert slope["p_value"] == pytest.approx(float(reference.pvalues["gap_js"]), rel=1e-6)
    kendall = next(f for f in sweep["findings"] if f["role"] == "sensitivity")
    assert kendall["n"] == 4 and kendall["ci_low"] is None and kendall["p_adjusted"] is None
    text = knowledge_gap(sweep, metric="f1", scale=100, correction="holm")["text"]
    assert "n = 120 document evaluations in 30 documents, errors clustered by document" in text


def test_a_sweep_with_a_decoder_that_ignores_its_context_is_not_testable():
    """Every decoder of the sweep must read its context (full - none above 0 by its CI): otherwise the claim is
    'not testable' and the guideline says why, naming the decoder; with all of them reading it, neither gate."""
    from datacomp.analysis.claims import paper_claims
    from datacomp.analysis.context_use import sweep_context_gate

    [sweep] = gap_sweep_analysis(sweep_rows(), AnalysisSettings(n_boot=100, min_n=10))
    correct_findings(sweep["findings"], "holm", 0.05)
    use = [{"eval_id": f"e{k}", "compressor_id": f"ae-dec{k}", "decoder": "full", "difference": 0.2,
            "reads_context": k != 2} for k in range(4)]
    sweep["context_gate"] = sweep_context_gate(sweep, use)
    assert "dec2 (full - none not above 0 by its CI)" in sweep["context_gate"]
    [claim] = paper_claims([], [sweep], "holm")
    assert claim["status"].startswith("not testable (not every decoder of the sweep is shown to read its context")
    guideline = knowledge_gap(sweep, metric="f1", scale=100, correction="holm")
    assert not guideline["supported"] and guideline["text"].startswith("No gap guideline for")
    use[2]["reads_context"] = True
    sweep["context_gate"] = sweep_context_gate(sweep, use)
    assert sweep["context_gate"] is None
    assert paper_claims([], [sweep], "holm")[0]["status"] == "reproduced"
    assert sweep_context_gate(sweep, use[:3]).endswith("dec3 (full and none not both evaluated)")
