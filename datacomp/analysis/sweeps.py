"""The knowledge-gap study: within each (method, ratio, encoder), compressors whose decoders differ.

The outcome is the compression loss, full - system on the same example under the same decoder (outcomes.py),
where the full-context baseline ran: a decoder farther from the encoder can be worse with its full context
too, and that is difficulty, not compression; the slopes of raw and full-context quality are printed beside.
The same documents are evaluated under every decoder, so the pooled rows are not independent: the
document-level OLS of the outcome on the gap (with log length and domain; encoder entropy when measured)
uses cluster-robust standard errors by document (statsmodels ``cov_type="cluster"``, t with G - 1 df),
and the report states the number of clusters. That slope is the sweep's one primary test (its own
family); Kendall's tau of mean quality against mean gap across compressors (one point per decoder, so n
is the number of decoders) is printed beside it as a sensitivity check.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Sequence

import numpy as np

from datacomp.analysis.family import finding
from datacomp.analysis.findings import AnalysisSettings, column, slope_result, with_predictors
from datacomp.analysis.outcomes import LOSS, outcome_name, outcome_values, retained_share
from datacomp.analysis.regression import ols


def gap_sweep_analysis(rows: Sequence[dict[str, Any]], settings: AnalysisSettings) -> list[dict[str, Any]]:
    metric = settings.metric
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row.get("method"), row.get("ratio"), row.get("encoder_id"))].append(row)
    out = []
    for (method, ratio, encoder), members in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
        prepared, source = with_predictors(members)   # windows for every compressor of the sweep, or none
        prepared = [r for r in prepared if r.get("gap_js") is not None]
        if len({r["decoder_id"] for r in prepared}) < 3:
            continue
        label = f"{method} {ratio:g}x, encoder {encoder}" if isinstance(ratio, (int, float)) else str(method)
        primary, outcomes, warning = outcome_values(prepared, metric, settings.min_n, column)
        pairs = []
        for compressor_id in sorted({r["compressor_id"] for r in prepared}):
            docs = [r for r in prepared if r["compressor_id"] == compressor_id]
            quality, full = column(docs, metric), column(docs, f"full_{metric}")
            pairs.append({"compressor_id": compressor_id, "decoder_id": docs[0]["decoder_id"], "n_docs": len(docs),
                          "gap_js": float(np.nanmean(column(docs, "gap_js"))), "quality": float(np.nanmean(quality)),
                          "full": float(np.nanmean(full)) if np.isfinite(full).any() else None,
                          "loss": float(np.nanmean(full - quality)) if np.isfinite(full - quality).any() else None,
                          "retained": retained_share(quality, full)})
        pairs.sort(key=lambda p: p["gap_js"])
        data = {"gap_js": column(prepared, "gap_js"),
                "enc_entropy": column(prepared, "enc_entropy"), "log_len": column(prepared, "log_len"),
                "domain": np.array([str(r.get("domain")) for r in prepared])}
        data.update({f"y_{outcome}": values for outcome, values in outcomes.items()})
        predictors = ["gap_js"] + (["enc_entropy"] if np.isfinite(data["enc_entropy"]).sum() >= settings.min_n
                                   else []) + ["log_len"]
        findings, fits = [], {}
        for outcome in outcomes:   # the primary outcome first: the loss where full context ran
            fits[outcome] = ols(data, f"y_{outcome}", predictors, ["domain"], confidence=settings.confidence,
                                clusters=[r["doc_id"] for r in prepared])
            slope = slope_result(fits[outcome], "gap_js", "ols-cluster slope", "cluster-robust t interval")
            if slope is not None:
                name = outcome_name(outcome, metric)
                findings.append(finding("ols", label, f"{name} per nat of gap, pooled documents (OLS, errors "
                                        f"clustered by document: {fits[outcome].n_clusters} clusters)", "gap_js", name,
                                        slope, role="primary" if outcome == primary else "beside", outcome=outcome))
        fit = fits[primary]
        key = "loss" if primary == LOSS else "quality"
        findings.append(finding("correlation", label, f"mean {outcome_name(primary, metric)} vs mean gap across "
                                "decoders (one point per compressor)", "gap_js", outcome_name(primary, metric),
                                _kendall_across(pairs, key, settings.confidence), role="sensitivity", outcome=primary))
        out.append({"label": label, "method": method, "ratio": ratio, "encoder_id": encoder, "pairs": pairs,
                    "findings": findings, "ols": fit.to_dict(), "n_clusters": fit.n_clusters,
                    "ols_beside": {o: f.to_dict() for o, f in fits.items() if o != primary},
                    "outcome": primary, "outcome_warning": warning, "predictors": source})
    return out


def _kendall_across(pairs: list[dict[str, Any]], key: str, confidence: float) -> dict[str, Any]:
    """Kendall's tau of mean quality against mean gap, one point per decoder, with scipy's exact p (a
    handful of points: no interval, since resampling four points says nothing)."""
    from scipy import stats as sps

    pairs = [p for p in pairs if p[key] is not None]
    gap, quality = [p["gap_js"] for p in pairs], [p[key] for p in pairs]
    base = {"method": "kendall", "ci_low": None, "ci_high": None, "n": len(pairs), "confidence": confidence,
            "ci_method": "none (one point per decoder: too few to resample)", "covariates": []}
    if len(pairs) < 3 or len(set(gap)) < 2 or len(set(quality)) < 2:
        return {**base, "estimate": None, "p_value": None, "note": "too few distinct decoders"}
    result = sps.kendalltau(gap, quality)
    return {**base, "estimate": float(result.statistic), "p_value": float(result.pvalue), "note": None}
