"""One compressor's tests: quality against the entropy, surprisal and gap of what it compressed, pooled and
within domains, with effect sizes and a joint model only beside its VIFs. Pure functions of row dicts.

Predictors are those of the evaluated windows (window_scores, schema 008) when every document has them,
and the window's length in tokens is the length covariate; an older store without them falls back to the
whole documents' scores and says so (``predictors``). Questions, each with one primary test in the
compressor's family (family.py):

- quality vs X, pooled over documents (X = encoder/decoder entropy and surprisal, the JS gap; the encoder's
  both before training and after, where the evaluated windows were scored under the trained encoder): Spearman;
  for the entropies Pearson and Kendall as sensitivity, and Spearman within each domain as strata;
- quality vs X within domains: partial Spearman on domain and log length (X = the entropies);
- quality differs between domains: Kruskal-Wallis.

Effect sizes: one OLS per predictor, each with domain and log length (HC3, t); a joint model of the
predictors is fitted only to print it with its variance inflation factors, and warns when one exceeds 5.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from typing import Any, Sequence

import numpy as np

from datacomp.analysis.bootstrap import mean_interval, zero_share
from datacomp.analysis.correlations import (
    compare_predictors,
    correlation,
    covariate_matrix,
    dropped_covariates,
    partial_correlation,
    partial_estimate,
)
from datacomp.analysis.descriptive import binned_means, describe
from datacomp.analysis.family import finding
from datacomp.analysis.outcomes import FULL, QUALITY, loss_summary, outcome_name, outcome_values
from datacomp.analysis.regression import OlsFit, inverse_prediction, ols, vifs

PREDICTORS = {
    "enc_entropy": "encoder predictive entropy",
    "trained_enc_entropy": "trained encoder predictive entropy",
    "trained_enc_surprisal": "trained encoder surprisal",
    "dec_entropy": "decoder predictive entropy",
    "enc_surprisal": "encoder surprisal",
    "dec_surprisal": "decoder surprisal",
    "gap_js": "encoder-decoder gap (Jensen-Shannon)",
}
ENTROPIES = ("enc_entropy", "trained_enc_entropy", "dec_entropy")
# Two predictors whose |Spearman| exceeds NEAR_DUPLICATE on the same rows ask one question: the one earlier
# in PRIMARY_ORDER keeps the primary test, the other's tests are sensitivity, outside the family (else Holm
# pays twice for one question). The order: the paper's predictor (the encoder's entropy) first, entropy
# before surprisal, the untrained encoder before the trained one, encoder before decoder, the gap last.
NEAR_DUPLICATE = 0.9
# A per-domain (stratum) test needs this many pairs and non-zero outcomes, else it is descriptive
STRATUM_MIN_N = 20
STRATUM_MIN_NONZERO = 10
PRIMARY_ORDER = ("enc_entropy", "trained_enc_entropy", "dec_entropy", "enc_surprisal", "trained_enc_surprisal",
                 "dec_surprisal", "gap_js")
UNITS = "nats/token"
VIF_LIMIT = 5.0   # above it a coefficient is not separately identified (the common rule of thumb)


@dataclasses.dataclass(frozen=True)
class AnalysisSettings:
    metric: str = "f1"
    n_boot: int = 1000
    seed: int = 0
    confidence: float = 0.95
    n_bins: int = 5
    min_n: int = 10
    target: float | None = None      # on the metric's 0-1 scale


def column(rows: Sequence[dict[str, Any]], key: str) -> np.ndarray:
    return np.array([np.nan if r.get(key) is None else float(r[key]) for r in rows], dtype=float)


def with_predictors(rows: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows with the predictor columns and ``log_len`` of the evaluated windows when every document has
    window scores; else those of the whole documents, with the warning the report prints."""
    complete = sum(1 for r in rows if r.get("n_window_scored") and r["n_window_scored"] == r.get("n_examples"))
    if rows and complete == len(rows):
        out = [{**r, **{p: r.get(f"win_{p}") for p in PREDICTORS},
                "log_len": math.log(max(float(r["win_n_tokens"] or 1), 1.0))} for r in rows]
        return out, {"source": "window", "length": "log tokens of the evaluated window", "warning": None}
    out = [{**r, "log_len": math.log(max(float(r.get("n_chars") or 1), 1.0))} for r in rows]
    warning = (f"predictors describe whole documents, not the evaluated windows ({complete} of {len(rows)} "
               "documents have window scores): quality is measured on the window while entropy, surprisal "
               "and length describe the document; re-run `datacomp evaluate` on this compressor's evaluation "
               "to score its windows (it skips the rows already stored)")
    return out, {"source": "document", "length": "log characters of the document", "warning": warning}


def label_of(rows: Sequence[dict[str, Any]]) -> str:
    first = rows[0]
    ratio = first.get("ratio")
    ratio_text = f" {ratio:g}x" if isinstance(ratio, (int, float)) else ""
    return f"{first.get('method')}{ratio_text} ({first['compressor_id']})"


def slope_result(fit: OlsFit, term_name: str, method: str, interval: str) -> dict[str, Any] | None:
    """A fit's slope as a finding's numbers; where its standard error is undefined the estimate stays and
    the interval and p are None, with the fit's "not computed: REASON" as the note."""
    term = fit.term(term_name)
    if term is None:
        return None
    return {"method": method, "estimate": term.coef, "ci_low": term.ci_low, "ci_high": term.ci_high,
            "p_value": term.p_value, "n": fit.n, "n_clusters": fit.n_clusters, "confidence": fit.confidence,
            "ci_method": "none" if fit.df is None else f"{interval}, {fit.df:g} df",
            "covariates": [t.term for t in fit.terms if t.term not in ("Intercept", term_name)],
            "dropped": list(fit.dropped), "note": fit.note}


def _slope(label: str, fit: OlsFit, term_name: str, metric: str) -> dict[str, Any] | None:
    result = slope_result(fit, term_name, "ols-hc3 slope", "HC3 robust t interval")
    if result is None:
        return None
    return finding("ols", label, f"{metric} per unit of {PREDICTORS.get(term_name, term_name)}, with domain and "
                   "length (OLS, HC3, t)", term_name, metric, result, role="effect", outcome=QUALITY)


def compressor_analysis(rows: Sequence[dict[str, Any]], settings: AnalysisSettings,
                        predictors: dict[str, Any] | None = None) -> dict[str, Any]:
    """All tests, effect sizes, the threshold and the binned means for one compressor's documents (rows
    already carry the predictor columns and ``log_len``: ``with_predictors``)."""
    metric = settings.metric
    label = label_of(rows)
    y = column(rows, metric)
    log_len = column(rows, "log_len")
    domain = [str(r.get("domain")) for r in rows]
    boot = dict(n_boot=settings.n_boot, seed=settings.seed, confidence=settings.confidence, min_n=settings.min_n)
    findings: list[dict[str, Any]] = []
    available = [p for p in PREDICTORS if np.isfinite(column(rows, p)).sum() >= settings.min_n]
    missing = [p for p in PREDICTORS if p not in available]
    # encoder and decoder are one model (SAC compresses with a copy of its decoder): the decoder-side
    # columns repeat the encoder's, so they are tested once, and not twice in one regression
    same_model = rows[0].get("encoder_id") is not None and rows[0].get("encoder_id") == rows[0].get("decoder_id")
    if same_model:
        available = [p for p in available if not p.startswith("dec_") and p != "gap_js"]

    duplicates = near_duplicates(rows, available)

    def role(x_name: str) -> dict[str, Any]:
        if x_name not in duplicates:
            return {"role": "primary"}
        return {"role": "sensitivity", "duplicate_of": duplicates[x_name][0], "duplicate_rho": duplicates[x_name][1]}

    primary_outcome, outcomes, outcome_warning = outcome_values(rows, metric, settings.min_n, column)
    covariates, names = covariate_matrix(log_len, domain)
    dropped = dropped_covariates(log_len)
    for outcome, values in outcomes.items():
        main = outcome == primary_outcome
        name = outcome_name(outcome, metric)
        tag = {"outcome": outcome}
        for x_name in available:
            x = column(rows, x_name)
            kind = role(x_name) if main else {"role": "beside"}
            question = f"{name} vs {PREDICTORS[x_name]}"
            findings.append(finding("correlation", label, question, x_name, name,
                                    correlation(x, values, "spearman", **boot), **kind, **tag))
            if x_name in ENTROPIES and main:
                for method in ("pearson", "kendall"):
                    findings.append(finding("correlation", label, question, x_name, name,
                                            correlation(x, values, method, **boot), role="sensitivity", **tag))
                for level in sorted(set(domain)):
                    inside = np.array([d == level for d in domain])
                    findings.append(finding("stratum", label, f"{question}, within {level}", x_name, name,
                                            stratum_test(x[inside], values[inside], settings), role="stratum",
                                            domain=level, **tag))
        for x_name in (p for p in ENTROPIES if p in available):
            findings.append(within_domain_test(label, x_name, column(rows, x_name), values, name, covariates, names,
                                               boot, **(role(x_name) if main else {"role": "beside"}), **tag))
        by_outcome_domain, domain_test = domain_comparison(values, domain, settings)
        if main:
            by_domain_primary = by_outcome_domain
        if domain_test is not None:
            findings.append(finding("domain", label, f"{name} differs between domains", "domain", name, domain_test,
                                    role="primary" if main else "beside", **tag))
    by_domain, _ = domain_comparison(y, domain, settings) if primary_outcome != QUALITY else (by_domain_primary, None)

    data = {metric: y, "log_len": log_len, "domain": np.array(domain)}
    data.update({p: column(rows, p) for p in available})
    fits, full_fits = {}, {}
    if FULL in outcomes:
        data[f"full_{metric}"] = outcomes[FULL]
    for x_name in (p for p in ("enc_entropy", "trained_enc_entropy", "dec_entropy", "gap_js") if p in available):
        fits[x_name] = ols(data, metric, [x_name, "log_len"], ["domain"], confidence=settings.confidence)
        slope = _slope(label, fits[x_name], x_name, metric)
        if slope is not None:
            findings.append(slope)
        if FULL in outcomes:   # system quality with the same example's full-context quality held fixed
            full_fits[x_name] = ols(data, metric, [x_name, f"full_{metric}", "log_len"], ["domain"],
                                    confidence=settings.confidence)
            slope = slope_result(full_fits[x_name], x_name, "ols-hc3 slope", "HC3 robust t interval")
            if slope is not None:
                findings.append(finding("ols", label, f"{metric} per unit of {PREDICTORS[x_name]}, with full-context "
                                        f"{metric}, domain and length (OLS, HC3, t)", x_name, metric, slope,
                                        role="effect", outcome="quality | full"))
    joint = joint_model(data, metric, [p for p in ("enc_entropy", "dec_entropy", "gap_js") if p in available],
                        settings.confidence)

    threshold = None
    if settings.target is not None and "enc_entropy" in fits:
        threshold = inverse_prediction(fits["enc_entropy"], "enc_entropy", settings.target).to_dict()
        enc = column(rows, "enc_entropy")
        enc = enc[np.isfinite(enc)]
        threshold["share_of_docs_above"] = (float(np.mean(enc > threshold["x"]))
                                            if threshold["x"] is not None and enc.size else None)
    comparisons = []
    for side in ("enc", "dec"):
        if f"{side}_entropy" in available and f"{side}_surprisal" in available:
            comparisons.append(compare_predictors(   # on the primary outcome: the loss where full context ran
                outcomes[primary_outcome], column(rows, f"{side}_entropy"), column(rows, f"{side}_surprisal"),
                (f"{side}_entropy", f"{side}_surprisal"), "spearman", **boot).to_dict())
    bins = {p: [b.to_dict() for b in binned_means(column(rows, p), y, settings.n_bins, settings.confidence,
                                                  n_boot=settings.n_boot, seed=settings.seed)]
            for p in ENTROPIES if p in available}
    return {
        "compressor_id": rows[0]["compressor_id"], "label": label, "method": rows[0].get("method"),
        "decoder_tuned": bool(rows[0].get("decoder_tuned")),
        "ratio": rows[0].get("ratio"), "encoder_id": rows[0].get("encoder_id"),
        "decoder_id": rows[0].get("decoder_id"), "n_docs": len(rows), "same_model": same_model,
        "predictors": predictors or {"source": "as given", "length": "log_len", "warning": None},
        "quality": mean_interval(y, settings.confidence, n_boot=settings.n_boot, seed=settings.seed),
        "zeros": zero_share(y), "missing_predictors": missing, "dropped_covariates": dropped,
        "near_duplicates": {k: {"of": v[0], "rho": v[1]} for k, v in duplicates.items()},
        "outcome": primary_outcome, "outcome_warning": outcome_warning,
        "loss": loss_summary(outcomes, domain, settings.confidence, settings.n_boot, settings.seed),
        "findings": findings, "ols": {k: fit.to_dict() for k, fit in fits.items()},
        "ols_full": {k: fit.to_dict() for k, fit in full_fits.items()}, "joint": joint,
        "threshold": threshold, "comparisons": comparisons, "bins": bins,
        "ranges": {p: describe(column(rows, p)) for p in available}, "by_domain": by_domain,
        "_fit": fits.get("enc_entropy"),
    }


def stratum_test(x: np.ndarray, y: np.ndarray, settings: AnalysisSettings) -> dict[str, Any]:
    """One domain's Spearman. A test needs n >= STRATUM_MIN_N pairs and STRATUM_MIN_NONZERO non-zero outcomes
    (a floor of zeros leaves a handful of values to rank): below either it is descriptive, the estimate
    without interval or p. Above, the p-value is a permutation test's (small strata: a bootstrap p is
    unreliable there), the BCa interval beside it."""
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n, nonzero = int(x.size), int(np.count_nonzero(y))
    boot = dict(n_boot=settings.n_boot, seed=settings.seed, confidence=settings.confidence, min_n=settings.min_n)
    if n < STRATUM_MIN_N or nonzero < STRATUM_MIN_NONZERO:
        point = correlation(x, y, "spearman", **{**boot, "min_n": 3}) if n >= 3 else None
        return {"method": "spearman", "estimate": point.estimate if point else None, "ci_low": None, "ci_high": None,
                "p_value": None, "n": n, "n_nonzero": nonzero, "confidence": settings.confidence,
                "ci_method": "none (descriptive)", "covariates": [], "descriptive": True,
                "note": (f"descriptive: n = {n} ({nonzero} non-zero) is below the minimum of {STRATUM_MIN_N} "
                         f"({STRATUM_MIN_NONZERO} non-zero) for a stratum test")}
    result = correlation(x, y, "spearman", **boot).to_dict()
    if result["estimate"] is not None:
        result["p_bootstrap"] = result["p_value"]
        result["p_value"] = permutation_p(x, y, settings.n_boot, settings.seed)
        result["ci_method"] += f"; p from {settings.n_boot} permutations of the pairing"
    return {**result, "n_nonzero": nonzero}


def permutation_p(x: np.ndarray, y: np.ndarray, n_perm: int, seed: int) -> float:
    """Two-sided Monte Carlo permutation p of Spearman's rho: (1 + #|rho_perm| >= |rho|) / (n_perm + 1)."""
    from scipy import stats as sps

    rx, ry = sps.rankdata(x), sps.rankdata(y)
    observed = abs(float(np.corrcoef(rx, ry)[0, 1]))
    shuffled = np.random.default_rng(seed).permuted(np.tile(ry, (n_perm, 1)), axis=1)
    rxc = rx - rx.mean()
    ryc = shuffled - shuffled.mean(axis=1, keepdims=True)
    rho = (ryc @ rxc) / np.sqrt((ryc * ryc).sum(axis=1) * (rxc @ rxc))
    return float((1 + np.sum(np.abs(rho) >= observed - 1e-12)) / (n_perm + 1))


def near_duplicates(rows: Sequence[dict[str, Any]], available: Sequence[str]) -> dict[str, tuple[str, float]]:
    """{predictor: (the predictor it duplicates, |Spearman| between them)} for every tested predictor whose
    |Spearman| with one earlier in PRIMARY_ORDER exceeds NEAR_DUPLICATE on the rows both have."""
    from scipy import stats as sps

    ordered = [p for p in PRIMARY_ORDER if p in available]
    out: dict[str, tuple[str, float]] = {}
    for k, name in enumerate(ordered):
        for earlier in ordered[:k]:
            if earlier in out:
                continue
            a, b = column(rows, earlier), column(rows, name)
            keep = np.isfinite(a) & np.isfinite(b)
            if keep.sum() < 3 or np.all(a[keep] == a[keep][0]) or np.all(b[keep] == b[keep][0]):
                continue
            rho = abs(float(sps.spearmanr(a[keep], b[keep]).statistic))
            if rho > NEAR_DUPLICATE:
                out[name] = (earlier, rho)
                break
    return out


def within_domain_test(label: str, x_name: str, x: np.ndarray, y: np.ndarray, y_name: str, covariates: np.ndarray,
                       names: list[str], boot: dict[str, Any], **role: Any) -> dict[str, Any]:
    """The partial Spearman on domain and log length, with its point estimate on domain alone beside it
    (``estimate_without_length``): the verdict names length as a confounder only when it moves the estimate."""
    result = partial_correlation(x, y, covariates, names, "spearman", **boot).to_dict()
    keep = [j for j, name in enumerate(names) if name != "log_length"]
    result["estimate_without_length"] = None
    if len(keep) < len(names) and result["estimate"] is not None:
        result["estimate_without_length"] = partial_estimate(x, y, covariates[:, keep])
    scope = "domain and log length" if "log_length" in names else "domain"
    return finding("partial", label, f"{y_name} vs {PREDICTORS[x_name]} within domains (controlling for {scope})",
                   x_name, y_name, result, **role)


def joint_model(data: dict[str, Any], metric: str, predictors: list[str], confidence: float) -> dict[str, Any] | None:
    """All predictors in one model with domain and length, printed only beside its VIFs; a VIF above 5
    means its slopes are not separately identified (a sign can flip against the raw correlation)."""
    if len(predictors) < 2:
        return None
    fit = ols(data, metric, predictors + ["log_len"], ["domain"], confidence=confidence)
    inflation = vifs(data, predictors + ["log_len"], ["domain"])
    high = {name: value for name, value in inflation.items() if value > VIF_LIMIT}
    warning = None
    if high:
        warning = ("collinear: VIF " + ", ".join(f"{name} {value:.1f}" for name, value in high.items())
                   + f" exceed {VIF_LIMIT:g}, so this joint model's slopes are not separately identified; read the "
                   "one-predictor models instead")
    return {"ols": fit.to_dict(), "vifs": inflation, "warning": warning}


def domain_comparison(y: np.ndarray, domain: Sequence[str], settings: AnalysisSettings
                      ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Mean quality per domain (BCa intervals, share of zeros) and a Kruskal-Wallis test of equal
    distributions: it needs two domains with 2+ documents and ``min_n`` documents in all; its estimate is
    H (not directional: which domain is lowest is read from the per-domain means)."""
    from scipy import stats as sps

    groups: dict[str, list[float]] = defaultdict(list)
    for value, d in zip(y, domain):
        if np.isfinite(value):
            groups[d].append(float(value))
    by_domain = [{"domain": d, **mean_interval(v, settings.confidence, n_boot=settings.n_boot, seed=settings.seed),
                  "share_zero": zero_share(v)["share_zero"]} for d, v in sorted(groups.items())]
    usable = [v for v in groups.values() if len(v) >= 2]
    if len(usable) < 2:
        return by_domain, None
    n = sum(len(v) for v in usable)
    base = {"method": "kruskal-wallis H", "ci_low": None, "ci_high": None, "n": n,
            "confidence": settings.confidence, "ci_method": "none (H has no interval)", "covariates": [],
            "directional": False}
    if n < settings.min_n:
        return by_domain, {**base, "estimate": None, "p_value": None,
                           "note": f"n={n} is below the minimum of {settings.min_n}"}
    pooled = np.concatenate(usable)
    if np.all(pooled == pooled[0]):
        return by_domain, {**base, "estimate": None, "p_value": None, "note": "quality is constant"}
    result = sps.kruskal(*usable)
    return by_domain, {**base, "estimate": float(result.statistic), "p_value": float(result.pvalue), "note": None}
