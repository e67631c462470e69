"""The report's tests: per compressor, quality against the encoder's and the decoder's entropy (and
surprisal and gap); across decoders, quality against the knowledge gap. Pure functions of row dicts.

Every test becomes one finding row ``{question, method, estimate, ci_low, ci_high, p_value, n, ...}``;
``correct_findings`` adds the adjusted p-value (Holm or BH over all the report's tests), the direction
and the verdict. Regression slopes are findings too, so the family holds every p-value the report prints.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from typing import Any, Iterable, Sequence

import numpy as np

from datacomp.analysis import stats
from datacomp.analysis.formatting import fmt_p
from datacomp.analysis.regression import OlsFit, inverse_prediction, ols_hc3

PREDICTORS = {
    "enc_entropy": "encoder predictive entropy",
    "dec_entropy": "decoder predictive entropy",
    "enc_surprisal": "encoder surprisal",
    "dec_surprisal": "decoder surprisal",
    "gap_js": "encoder-decoder gap (Jensen-Shannon)",
}
UNITS = "nats/token"


@dataclasses.dataclass(frozen=True)
class AnalysisSettings:
    metric: str = "f1"
    n_boot: int = 1000
    seed: int = 0
    confidence: float = 0.95
    n_bins: int = 5
    min_n: int = 10
    target: float | None = None      # on the metric's 0-1 scale


def _column(rows: Sequence[dict[str, Any]], key: str) -> np.ndarray:
    return np.array([np.nan if r.get(key) is None else float(r[key]) for r in rows], dtype=float)


def _finding(kind: str, group: str, question: str, x: str, y: str, result: Any, **extra: Any) -> dict[str, Any]:
    out = {"kind": kind, "group": group, "question": question, "x": x, "y": y}
    out.update(result.to_dict() if hasattr(result, "to_dict") else result)
    out.update(extra)
    return out


def _label(rows: Sequence[dict[str, Any]]) -> str:
    first = rows[0]
    ratio = first.get("ratio")
    ratio_text = f" {ratio:g}x" if isinstance(ratio, (int, float)) else ""
    return f"{first.get('method')}{ratio_text} ({first['compressor_id']})"


def compressor_analysis(rows: Sequence[dict[str, Any]], settings: AnalysisSettings) -> dict[str, Any]:
    """All tests, the regression, the threshold and the binned means for one compressor's documents."""
    metric = settings.metric
    label = _label(rows)
    y = _column(rows, metric)
    log_len = np.log(np.maximum(_column(rows, "n_chars"), 1.0))
    domain = [str(r.get("domain")) for r in rows]
    boot = dict(n_boot=settings.n_boot, seed=settings.seed, confidence=settings.confidence, min_n=settings.min_n)
    findings: list[dict[str, Any]] = []
    available = [p for p in PREDICTORS if np.isfinite(_column(rows, p)).sum() >= settings.min_n]
    missing = [p for p in PREDICTORS if p not in available]
    # encoder and decoder are one model (SAC compresses with a copy of its decoder): the decoder-side
    # columns repeat the encoder's, so they are tested once, and not twice in one regression
    same_model = rows[0].get("encoder_id") is not None and rows[0].get("encoder_id") == rows[0].get("decoder_id")
    if same_model:
        available = [p for p in available if not p.startswith("dec_")]

    for x_name in ("enc_entropy", "dec_entropy"):
        if x_name not in available:
            continue
        x = _column(rows, x_name)
        for method in stats.CORRELATION_METHODS:
            findings.append(_finding("correlation", label, f"{metric} vs {PREDICTORS[x_name]}", x_name, metric,
                                     stats.correlation(x, y, method, **boot)))
    for x_name in ("enc_surprisal", "dec_surprisal", "gap_js"):
        if x_name in available:
            findings.append(_finding("correlation", label, f"{metric} vs {PREDICTORS[x_name]}", x_name, metric,
                                     stats.correlation(_column(rows, x_name), y, "spearman", **boot)))
    covariates, names = stats.covariate_matrix(log_len, domain)
    for x_name in ("enc_entropy", "dec_entropy"):
        if x_name in available:
            findings.append(_finding(
                "partial", label, f"{metric} vs {PREDICTORS[x_name]}, controlling for log length and domain",
                x_name, metric, stats.partial_correlation(_column(rows, x_name), y, covariates, names,
                                                          "spearman", **boot)))

    by_domain, domain_test = domain_comparison(y, domain, settings.confidence, settings.min_n)
    if domain_test is not None:
        findings.append(_finding("domain", label, f"{metric} differs between domains", "domain", metric,
                                 domain_test))

    predictors = [p for p in ("enc_entropy", "dec_entropy", "gap_js") if p in available]
    data = {metric: y, "log_len": log_len, "domain": np.array(domain)}
    data.update({p: _column(rows, p) for p in predictors})
    fit = ols_hc3(data, metric, predictors + ["log_len"], ["domain"], confidence=settings.confidence)
    for term in fit.terms:
        if term.term in predictors:
            findings.append(_finding("ols", label, f"{metric} per unit of {PREDICTORS[term.term]} (OLS, HC3)",
                                     term.term, metric, {
                                         "method": "ols-hc3 slope", "estimate": term.coef, "ci_low": term.ci_low,
                                         "ci_high": term.ci_high, "p_value": term.p_value, "n": fit.n,
                                         "confidence": fit.confidence, "ci_method": "HC3 robust normal interval",
                                         "covariates": [t.term for t in fit.terms
                                                        if t.term not in ("Intercept", term.term)],
                                         "note": None}))

    threshold = None
    if settings.target is not None and "enc_entropy" in predictors:
        threshold = inverse_prediction(fit, "enc_entropy", settings.target).to_dict()
        enc = _column(rows, "enc_entropy")
        enc = enc[np.isfinite(enc)]
        threshold["share_of_docs_above"] = (float(np.mean(enc > threshold["x"]))
                                            if threshold["x"] is not None and enc.size else None)
    comparisons = []
    for side in ("enc", "dec"):
        if f"{side}_entropy" in available and f"{side}_surprisal" in available:
            comparisons.append(stats.compare_predictors(
                y, _column(rows, f"{side}_entropy"), _column(rows, f"{side}_surprisal"),
                (f"{side}_entropy", f"{side}_surprisal"), "spearman", **boot).to_dict())
    bins = {p: [b.to_dict() for b in stats.binned_means(_column(rows, p), y, settings.n_bins, settings.confidence)]
            for p in ("enc_entropy", "dec_entropy") if p in available}
    ranges = {p: stats.describe(_column(rows, p)) for p in available}
    return {
        "compressor_id": rows[0]["compressor_id"], "label": label, "method": rows[0].get("method"),
        "decoder_tuned": bool(rows[0].get("decoder_tuned")),
        "ratio": rows[0].get("ratio"), "encoder_id": rows[0].get("encoder_id"),
        "decoder_id": rows[0].get("decoder_id"), "n_docs": len(rows), "same_model": same_model,
        "quality": stats.mean_interval(y, settings.confidence), "missing_predictors": missing,
        "findings": findings, "ols": fit.to_dict(), "threshold": threshold, "comparisons": comparisons,
        "bins": bins, "ranges": ranges, "by_domain": by_domain, "_fit": fit,
    }


def domain_comparison(y: np.ndarray, domain: Sequence[str], confidence: float,
                      min_n: int) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Mean quality per domain (t intervals) and a Kruskal-Wallis test of equal distributions.

    The test needs at least two domains with 2+ documents and ``min_n`` documents in all; its estimate is H
    (not directional: which domain is lowest is read from the per-domain means).
    """
    from scipy import stats as sps

    groups: dict[str, list[float]] = defaultdict(list)
    for value, d in zip(y, domain):
        if np.isfinite(value):
            groups[d].append(float(value))
    by_domain = [{"domain": d, **stats.mean_interval(v, confidence)} for d, v in sorted(groups.items())]
    usable = [v for v in groups.values() if len(v) >= 2]
    if len(usable) < 2:
        return by_domain, None
    n = sum(len(v) for v in usable)
    base = {"method": "kruskal-wallis H", "ci_low": None, "ci_high": None, "n": n, "confidence": confidence,
            "ci_method": "none (H has no interval)", "covariates": [], "directional": False}
    if n < min_n:
        return by_domain, {**base, "estimate": None, "p_value": None,
                           "note": f"n={n} is below the minimum of {min_n}"}
    pooled = np.concatenate(usable)
    if np.all(pooled == pooled[0]):
        return by_domain, {**base, "estimate": None, "p_value": None, "note": "quality is constant"}
    result = sps.kruskal(*usable)
    return by_domain, {**base, "estimate": float(result.statistic), "p_value": float(result.pvalue), "note": None}


def gap_sweep_analysis(rows: Sequence[dict[str, Any]], settings: AnalysisSettings) -> list[dict[str, Any]]:
    """Knowledge-gap study: within each (method, ratio, encoder), compressors whose decoders differ.

    Pair level: Kendall's tau of mean quality against mean gap across compressors (n = compressors; with a
    handful of decoders scipy's exact Kendall p-value is honest where Spearman's t approximation is not).
    Document level: OLS of quality on the gap (+ encoder entropy, log length, domain) pooled over the
    compressors' documents (documents repeat across decoders; the HC3 errors do not model that pairing).
    """
    metric = settings.metric
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row.get("gap_js") is not None:
            groups[(row.get("method"), row.get("ratio"), row.get("encoder_id"))].append(row)
    out = []
    for (method, ratio, encoder), members in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
        by_compressor: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in members:
            by_compressor[row["compressor_id"]].append(row)
        if len({r["decoder_id"] for r in members}) < 3:
            continue
        pairs = []
        for compressor_id, docs in sorted(by_compressor.items()):
            pairs.append({"compressor_id": compressor_id, "decoder_id": docs[0]["decoder_id"], "n_docs": len(docs),
                          "gap_js": float(np.nanmean(_column(docs, "gap_js"))),
                          "quality": float(np.nanmean(_column(docs, metric)))})
        pairs.sort(key=lambda p: p["gap_js"])
        label = f"{method} {ratio:g}x, encoder {encoder}" if isinstance(ratio, (int, float)) else str(method)
        pair_test = stats.correlation([p["gap_js"] for p in pairs], [p["quality"] for p in pairs], "kendall",
                                      n_boot=settings.n_boot, seed=settings.seed,
                                      confidence=settings.confidence, min_n=4)
        y = _column(members, metric)
        data = {metric: y, "gap_js": _column(members, "gap_js"), "enc_entropy": _column(members, "enc_entropy"),
                "log_len": np.log(np.maximum(_column(members, "n_chars"), 1.0)),
                "domain": np.array([str(r.get("domain")) for r in members])}
        predictors = ["gap_js"] + (["enc_entropy"] if np.isfinite(data["enc_entropy"]).sum() >= settings.min_n
                                   else []) + ["log_len"]
        fit = ols_hc3(data, metric, predictors, ["domain"], confidence=settings.confidence)
        findings = [_finding("correlation", label, f"mean {metric} vs mean gap across decoders (one point "
                             "per compressor)", "gap_js", metric, pair_test)]
        term = fit.term("gap_js")
        if term is not None:
            findings.append(_finding("ols", label, f"{metric} per nat of gap, pooled documents (OLS, HC3)",
                                     "gap_js", metric, {
                                         "method": "ols-hc3 slope", "estimate": term.coef, "ci_low": term.ci_low,
                                         "ci_high": term.ci_high, "p_value": term.p_value, "n": fit.n,
                                         "confidence": fit.confidence, "ci_method": "HC3 robust normal interval",
                                         "covariates": [t.term for t in fit.terms
                                                        if t.term not in ("Intercept", "gap_js")],
                                         "note": None}))
        out.append({"label": label, "method": method, "ratio": ratio, "encoder_id": encoder, "pairs": pairs,
                    "findings": findings, "ols": fit.to_dict()})
    return out


def correct_findings(findings: Iterable[dict[str, Any]], correction: str, alpha: float) -> list[dict[str, Any]]:
    """Adjust every finding's p-value across the whole family; add direction, significance and verdict."""
    findings = list(findings)
    adjusted = stats.adjust([f.get("p_value") for f in findings], correction)
    for finding, p_adj in zip(findings, adjusted):
        finding["p_adjusted"] = p_adj
        estimate = finding.get("estimate")
        if estimate is None:
            finding["direction"] = "undefined"
            finding["significant"] = False
            finding["verdict"] = f"not computed: {finding.get('note')}"
            continue
        finding["significant"] = p_adj is not None and p_adj < alpha
        if finding.get("directional", True):
            finding["direction"] = "negative" if estimate < 0 else "positive" if estimate > 0 else "zero"
        else:
            finding["direction"] = "differs" if finding["significant"] else "no difference shown"
        if finding["significant"]:
            finding["verdict"] = f"{finding['direction']}, significant ({correction}-adjusted p < {alpha:g})"
        else:
            finding["verdict"] = f"not significant ({correction}-adjusted p = {fmt_p(p_adj)} >= {alpha:g})"
    return findings


def is_finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def strip_private(value: Any) -> Any:
    """Drop keys starting with '_' (fitted objects kept for plots) before serialising."""
    if isinstance(value, dict):
        return {k: strip_private(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list):
        return [strip_private(v) for v in value]
    if isinstance(value, OlsFit):
        return value.to_dict()
    return value
