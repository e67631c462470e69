"""Constructed rows of analysis/compressor_documents for the findings, claims and guideline tests: the
relations are planted, so every verdict has a known answer."""

from __future__ import annotations

import numpy as np

from datacomp.analysis.findings import AnalysisSettings, compressor_analysis, with_predictors

SETTINGS = AnalysisSettings(n_boot=200, min_n=10)


def documents(n=60, seed=0, compressor="c", enc_slope=-0.1, domain_shift=0.0, same_model=False, window=True):
    """Rows of analysis/compressor_documents. Quality = 0.8 + enc_slope * window entropy + a domain shift;
    the document-level entropy is unrelated noise (it describes text the compressor never read)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        domain = ["code", "prose", "wiki"][i % 3]
        shift = {"code": -domain_shift, "prose": 0.0, "wiki": domain_shift}[domain]
        win_entropy = float(rng.uniform(1, 4)) - 10 * shift   # a domain that scores higher is less entropic
        row = {"compressor_id": compressor, "method": "sac", "ratio": 4.0, "encoder_id": "m",
               "decoder_id": "m" if same_model else "d", "decoder_tuned": False, "doc_id": f"{compressor}{i}",
               "domain": domain, "n_chars": int(rng.integers(500, 5000)), "n_examples": 1,
               "f1": float(np.clip(0.8 + enc_slope * win_entropy + shift + rng.normal(0, 0.03), 0, 1)),
               "enc_entropy": float(rng.uniform(1, 4)), "dec_entropy": float(rng.uniform(1, 4)),
               "enc_surprisal": float(rng.uniform(1, 4)), "dec_surprisal": float(rng.uniform(1, 4)), "gap_js": None,
               "n_window_scored": 1 if window else 0, "win_n_tokens": 64,
               "win_enc_entropy": win_entropy, "win_dec_entropy": float(rng.uniform(1, 4)),
               "win_enc_surprisal": win_entropy + float(rng.normal(0.4, 0.3)),
               "win_dec_surprisal": float(rng.uniform(1, 4)), "win_gap_js": float(rng.uniform(0, 0.3))}
        rows.append(row)
    return rows


def analyse(rows, settings=SETTINGS):
    prepared, predictors = with_predictors(rows)
    return compressor_analysis(prepared, settings, predictors)
