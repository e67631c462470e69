"""Compression loss (full - system on the same example) is every data-centric finding's primary outcome:
where quality falls with entropy equally with full context and compressed, entropy predicts difficulty,
not the loss; where only the compressed system falls, it predicts the loss."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from datacomp.analysis.claims import paper_claims
from datacomp.analysis.family import correct_findings
from datacomp.analysis.guidelines import domain_difficulty, entropy_threshold, outcome_tests
from datacomp.analysis.sweeps import gap_sweep_analysis

from document_rows import SETTINGS, analyse, documents


def with_full(rows, full_slope, system_slope, seed=40):
    """Full-context F1 = 0.9 + full_slope * (h - 2.5); the compressor's = full - 0.2 + (system_slope -
    full_slope) * (h - 2.5): both fall with entropy by their own slope, the loss by the difference."""
    rng = np.random.default_rng(seed)
    for row in rows:
        h = row["win_enc_entropy"] - 2.5
        row["full_f1"] = 0.9 + full_slope * h + float(rng.normal(0, 0.02))
        row["f1"] = row["full_f1"] - 0.2 + (system_slope - full_slope) * h + float(rng.normal(0, 0.02))
    return rows


def _claim(analysis):
    correct_findings(analysis["findings"], "holm", 0.05)
    return paper_claims([analysis], [], "holm")[0]


def test_quality_falling_with_entropy_equally_with_full_context_is_difficulty_not_compression():
    analysis = analyse(with_full(documents(n=90, seed=41), full_slope=-0.1, system_slope=-0.1))
    assert analysis["outcome"] == "loss"
    claim = _claim(analysis)
    assert claim["claim"] == "1: higher encoder entropy, larger compression loss (full - system)"
    assert claim["status"].startswith("entropy predicts difficulty (full context) but not the loss: on the loss "
                                      "not reproduced (not significant")
    raw, _ = outcome_tests(analysis, "enc_entropy", "quality")
    assert raw["significant"] and raw["estimate"] < -0.8 and raw["role"] == "beside"   # raw quality alone misleads
    guideline = entropy_threshold(analysis, metric="f1", scale=100, target=0.5, alpha=0.05, correction="holm")
    assert not guideline["supported"]
    assert "High-entropy windows score lower with their full context too" in guideline["text"]


def test_only_the_compressed_system_falling_with_entropy_is_a_compression_loss():
    rows = with_full(documents(n=90, seed=42), full_slope=0.0, system_slope=-0.1)
    analysis = analyse(rows)
    loss, within = outcome_tests(analysis, "enc_entropy", "loss")
    expected = sps.spearmanr([r["win_enc_entropy"] for r in rows], [r["full_f1"] - r["f1"] for r in rows])
    assert loss["estimate"] == pytest.approx(expected.statistic) and loss["role"] == "primary"
    claim = _claim(analysis)
    assert claim["status"] == "entropy predicts compression loss: reproduced (pooled and within domains)"
    assert claim["evidence"].startswith("loss pooled: spearman = ")
    primary = {f["question"] for f in analysis["findings"] if f["role"] == "primary"}
    assert "f1 loss (full - system) vs encoder predictive entropy" in primary
    assert "f1 vs encoder predictive entropy" not in primary   # raw quality is beside, outside the family
    slope = next(f for f in analysis["findings"] if f["kind"] == "ols" and f["outcome"] == "quality | full")
    assert slope["estimate"] == pytest.approx(-0.1, abs=0.02)   # the compression effect, full context held fixed


def test_the_domain_guideline_compares_the_loss_not_raw_quality():
    """Literature hard with any context (low full) but compressed as well as any: raw quality would call it
    the worst domain, the loss does not."""
    rng = np.random.default_rng(43)
    rows = documents(n=90, seed=43, enc_slope=0.0)
    for row in rows:
        full = {"code": 0.9, "prose": 0.3, "wiki": 0.8}[row["domain"]]
        row["full_f1"] = full + float(rng.normal(0, 0.02))
        row["f1"] = row["full_f1"] * (0.5 if row["domain"] == "code" else 0.9) + float(rng.normal(0, 0.02))
    analysis = analyse(rows)
    correct_findings(analysis["findings"], "holm", 0.05)
    guideline = domain_difficulty(analysis, metric="f1", scale=100, alpha=0.05, correction="holm")
    assert guideline["supported"]
    assert "the compression loss (F1, full - system) differs between domains (Kruskal-Wallis H on the loss" \
        in guideline["text"]
    assert "most lost: code loses " in guideline["text"] and "No ratio was varied" in guideline["text"]
    assert "lower compression ratio" not in guideline["text"]
    sweep = domain_difficulty(analysis, metric="f1", scale=100, alpha=0.05, correction="holm", ratio_sweep=True)
    assert "Give code documents a lower compression ratio." in sweep["text"]
    raw_only = analyse(documents(n=90, seed=43))   # no full baseline: no domain guideline from raw quality
    correct_findings(raw_only["findings"], "holm", 0.05)
    text = domain_difficulty(raw_only, metric="f1", scale=100, alpha=0.05, correction="holm")["text"]
    assert text.startswith(f"No domain guideline for {raw_only['label']}: without the full-context baseline")


def _sweep_rows(full_slope, system_slope):
    """Four decoders along the gap; full-context and compressed F1 fall with the gap by their own slopes."""
    rng = np.random.default_rng(44)
    rows = []
    for k in range(4):
        for i in range(30):
            gap = 0.05 + 0.1 * k + float(rng.normal(0, 0.01))
            full = 0.9 + full_slope * gap + float(rng.normal(0, 0.02))
            rows.append({"compressor_id": f"ae-d{k}", "method": "autoencoder", "ratio": 4.0, "encoder_id": "e",
                         "decoder_id": f"d{k}", "doc_id": f"doc{i}", "domain": ["a", "b", "c"][i % 3],
                         "n_chars": 1000 + 10 * i, "n_examples": 1, "n_window_scored": 0, "gap_js": gap,
                         "enc_entropy": float(rng.uniform(1, 4)), "full_f1": full,
                         "f1": full - 0.2 + (system_slope - full_slope) * gap + float(rng.normal(0, 0.02))})
    return rows


def test_the_gap_sweep_reads_the_loss_beside_the_decoders_full_context_quality():
    from datacomp.analysis.claims import paper_claims

    def claim(rows):
        [sweep] = gap_sweep_analysis(rows, SETTINGS)
        correct_findings(sweep["findings"], "holm", 0.05)
        return sweep, paper_claims([], [sweep], "holm")[0]

    sweep, difficulty = claim(_sweep_rows(full_slope=-0.6, system_slope=-0.6))
    assert sweep["outcome"] == "loss" and difficulty["claim"].startswith("2: a larger encoder-decoder gap, a larger "
                                                                          "compression loss")
    assert difficulty["status"].startswith("the gap predicts difficulty (the decoder's full-context quality) but not "
                                           "the loss")
    _, compression = claim(_sweep_rows(full_slope=0.0, system_slope=-0.6))
    assert compression["status"] == "the gap predicts compression loss: reproduced"


def test_the_report_prints_the_loss_as_the_primary_outcome(planted):
    _, paths, data = planted
    markdown = paths["markdown"].read_text()
    analysis = next(a for a in data["findings"]["compressors"] if a["compressor_id"] == "ae4-dec0")
    overall = analysis["loss"]["overall"]
    assert analysis["outcome"] == "loss" and overall["n"] == 90
    assert ("The data-centric findings are tested on the compression loss (full-context quality minus the "
            "compressor's on the same example), beside raw and full-context quality.") in markdown
    assert (f"Compression loss, the primary outcome: full-context f1 minus the compressor's on the same example, "
            f"{_fmt(overall['mean'] * 100)} points on average") in markdown
    assert "| domain | loss (points) | 95% CI (points) | n | full-context f1 (points) | retained |" in markdown
    assert any(line.startswith("Outcome: every data-centric finding") for line in data["methods"]["statistics"])


def _fmt(value):
    from datacomp.analysis.formatting import fmt

    return fmt(value)
