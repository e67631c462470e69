"""The report's findings section: per compressor (findings.py) and per knowledge-gap sweep (sweeps.py),
corrected family by family (family.py), with the scatter and binned figures."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from datacomp.analysis import findings as fnd
from datacomp.analysis.context_use import context_of, sweep_context_gate
from datacomp.analysis.descriptive import Bin
from datacomp.analysis.family import correct_findings
from datacomp.analysis.guidelines import METRIC_NAMES
from datacomp.analysis.sweeps import gap_sweep_analysis


def _skip_reason(compressor_id: str, docs: list[dict[str, Any]], min_n: int) -> str | None:
    if len(docs) < min_n:
        return (f"{compressor_id}: only {len(docs)} evaluated documents (need {min_n}); evaluate it on a larger "
                "slice: `datacomp evaluate --compressor C --slice S --task T`")
    scored = sum(d.get("enc_entropy") is not None or d.get("dec_entropy") is not None for d in docs)
    if scored < min_n:
        return (f"{compressor_id}: {scored} of {len(docs)} evaluated documents have encoder or decoder scores "
                f"(need {min_n}); re-run `datacomp evaluate` on its evaluation to score the evaluated windows, or "
                f"score the documents: `datacomp score --corpus NAME --encoder {docs[0]['encoder_id'] or 'MODEL'} "
                f"--decoder {docs[0]['decoder_id'] or 'MODEL'}`")
    return None


def findings_section(store, config, task: str | None, figures, context_use: list[dict[str, Any]],
                     scale: float) -> dict[str, Any]:
    metric = config.quality_metric
    section: dict[str, Any] = {"correction": config.correction, "alpha": config.alpha, "metric": metric,
                               "compressors": [], "sweeps": [], "items": [], "skipped": [], "warnings": []}
    if task is None:
        section["missing"] = "no evaluations yet, so no findings: see the evaluation section for the commands"
        return section
    rows = [r for r in store.rows("analysis/compressor_documents", {"task": task}) if r.get(metric) is not None]
    by_compressor: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_compressor[row["compressor_id"]].append(row)
    settings = fnd.AnalysisSettings(metric=metric, n_boot=config.n_boot, seed=config.seed,
                                    confidence=config.confidence, n_bins=config.n_bins, min_n=config.min_n,
                                    target=config.target_fraction())
    analyses = []
    prepared_by_compressor: dict[str, list[dict[str, Any]]] = {}
    for compressor_id, docs in sorted(by_compressor.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        prepared, predictors = fnd.with_predictors(docs)
        prepared_by_compressor[compressor_id] = prepared
        reason = _skip_reason(compressor_id, prepared, config.min_n)
        if len(analyses) >= config.max_compressors:
            section["skipped"].append(f"{compressor_id}: beyond --max-compressors {config.max_compressors}")
        elif reason:
            section["skipped"].append(reason)
        else:
            analysis = fnd.compressor_analysis(prepared, settings, predictors)
            analysis["context"] = context_of(compressor_id, context_use)
            if predictors["warning"]:
                section["warnings"].append(f"{analysis['label']}: {predictors['warning']}")
            analyses.append(analysis)
    sweeps = gap_sweep_analysis(rows, settings)
    for sweep in sweeps:
        sweep["context_gate"] = sweep_context_gate(sweep, context_use)
    items = [f for a in analyses for f in a["findings"]] + [f for s in sweeps for f in s["findings"]]
    correct_findings(items, config.correction, config.alpha)
    for i, finding in enumerate(items, start=1):
        finding["id"] = f"F{i}"
    section["items"] = items
    if not rows:
        section["missing"] = (f"the {task} evaluations name no document of the store (doc_id empty or not ingested), "
                              "so quality cannot be joined with entropy: evaluate on a slice of ingested documents, "
                              "e.g. `datacomp evaluate --compressor C --slice S --task reconstruction`")
    elif not analyses:
        section["missing"] = ("no compressor has enough evaluated documents with scores: " +
                              ("; ".join(section["skipped"]) or f"evaluate on at least {config.min_n} documents"))
    for k, analysis in enumerate(analyses[:config.max_figure_compressors if figures.enabled else 0]):
        _figures(analysis, k, prepared_by_compressor[analysis["compressor_id"]], config, figures, scale)
    for analysis in analyses:
        analysis.pop("_fit", None)
    section["compressors"] = analyses
    section["sweeps"] = sweeps
    if not sweeps:
        section["sweep_missing"] = ("no knowledge-gap sweep: it needs at least 3 compressors with the same "
                                    "method, ratio and encoder but different decoders, evaluated on scored "
                                    "documents (run pipelines/knowledge_gap_study.toml)")
    return section


def _figures(analysis: dict[str, Any], k: int, doc_rows: list[dict[str, Any]], config, figures,
             scale: float) -> None:
    """``doc_rows``: the compressor's documents as ``findings.with_predictors`` prepared them for its analysis."""
    from datacomp.analysis import plots
    from datacomp.analysis.regression import critical_value, predict_mean

    metric = config.quality_metric
    fit = analysis.pop("_fit")
    x = [r.get("enc_entropy") for r in doc_rows]
    y = [r.get(metric) for r in doc_rows]
    keep = [i for i in range(len(x)) if x[i] is not None and y[i] is not None]
    fit_x = fit_mean = fit_low = fit_high = None
    if fit is not None and fit.cov and "enc_entropy" in fit.exog_names and keep:
        xs = np.array([x[i] for i in keep], dtype=float)
        fit_x = np.linspace(xs.min(), xs.max(), 60)
        mean, se = predict_mean(fit, "enc_entropy", fit_x)
        t = critical_value(fit)
        fit_mean, fit_low, fit_high = mean * scale, (mean - t * se) * scale, (mean + t * se) * scale
    name = METRIC_NAMES[metric]
    target = config.target_fraction()
    side = "window" if analysis["predictors"]["source"] == "window" else "document"
    analysis["figures"] = figures.draw(f"scatter_{k}", lambda: plots.scatter_with_fit(
        [x[i] for i in keep], [y[i] * scale for i in keep], fit_x, fit_mean, fit_low, fit_high,
        xlabel=f"encoder predictive entropy of the {side} (nats/token)", ylabel=f"{name} (points, 0-100)",
        title=f"{name} vs encoder entropy: {analysis['label']}",
        fit_label="OLS with domain and length (HC3, t), at their sample mix",
        reference=(target * scale, "target") if target is not None else None))
    enc_bins, dec_bins = (_bins_in_points(analysis["bins"].get(p, []), scale) for p in ("enc_entropy", "dec_entropy"))
    analysis["figures"] += figures.draw(f"binned_{k}", lambda: plots.binned_side_by_side(
        enc_bins, dec_bins, left_xlabel="encoder predictive entropy (nats/token)",
        right_xlabel="decoder predictive entropy (nats/token)", ylabel=f"{name} (points, 0-100)",
        title=f"Binned {name}: encoder vs decoder entropy ({analysis['label']})",
        left_missing=_why_no_bins(analysis, "enc_entropy", side, config.min_n),
        right_missing=_why_no_bins(analysis, "dec_entropy", side, config.min_n)))


def _bins_in_points(bins: list[dict[str, Any]], scale: float) -> list[Bin]:
    """The analysis' bins (quality on 0-1) with their means and intervals in points, as the report prints."""
    def scaled(value: float | None) -> float | None:
        return None if value is None else value * scale

    return [Bin(**{**b, "y_mean": scaled(b["y_mean"]), "ci_low": scaled(b["ci_low"]),
                   "ci_high": scaled(b["ci_high"])}) for b in bins]


def _why_no_bins(analysis: dict[str, Any], predictor: str, side: str, min_n: int) -> str | None:
    """Why the analysis has no binned means of ``predictor`` (None when it has them)."""
    if analysis["bins"].get(predictor):
        return None
    if analysis.get("same_model") and predictor.startswith("dec_"):
        return "encoder and decoder are one model, so its decoder entropy repeats the encoder's"
    return (f"fewer than {min_n} evaluated {side}s have a {fnd.PREDICTORS.get(predictor, predictor)} score "
            "(score them: `datacomp score` with the model, or re-run `datacomp evaluate` to score the windows)")
