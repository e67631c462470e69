"""No ratio advice without a ratio sweep: the entropy threshold and the domain guideline name a ratio only
where one method was evaluated at two or more ratios (report.has_ratio_sweep)."""

from __future__ import annotations

import numpy as np

from datacomp.analysis.family import correct_findings
from datacomp.analysis.findings import AnalysisSettings
from datacomp.analysis.guidelines import entropy_threshold
from datacomp.analysis.report import has_ratio_sweep

from document_rows import analyse, documents


def test_a_ratio_sweep_is_one_method_at_two_or_more_ratios():
    row = {"kind": "compressor", "method": "sac"}
    assert not has_ratio_sweep([{**row, "ratio_target": 4.0}, {**row, "method": "ae", "ratio_target": 8.0},
                                {"kind": "baseline", "method": "truncate", "ratio_target": 8.0}])
    assert has_ratio_sweep([{**row, "ratio_target": 4.0}, {**row, "ratio_target": 8.0}])


def test_the_entropy_threshold_advises_a_ratio_only_after_a_ratio_sweep():
    rng = np.random.default_rng(50)
    rows = documents(n=90, seed=50, enc_slope=-0.15)
    for row in rows:   # a compression effect: full context flat, the compressor falls with entropy
        row["full_f1"] = 0.95 + float(rng.normal(0, 0.02))
    analysis = analyse(rows, AnalysisSettings(n_boot=200, min_n=10, target=0.5))
    correct_findings(analysis["findings"], "holm", 0.05)
    threshold = analysis["threshold"]
    low, high = analysis["ranges"]["enc_entropy"]["min"], analysis["ranges"]["enc_entropy"]["max"]
    assert threshold["bounded"] and low < threshold["x"] < high
    plain = entropy_threshold(analysis, metric="f1", scale=100, target=0.5, alpha=0.05, correction="holm")
    assert plain["supported"]
    assert plain["text"].endswith("leave those uncompressed (no ratio was varied, so these data give no ratio advice).")
    swept = entropy_threshold(analysis, metric="f1", scale=100, target=0.5, alpha=0.05, correction="holm",
                              ratio_sweep=True)
    assert swept["text"].endswith("route those to a lower compression ratio or leave them uncompressed.")
