"""Build the report from the store (``build_report``) and write it (``write_report``).

``Report.data`` is a JSON-able dict holding every number the report prints; report.md and report.html
are both rendered from that dict (``render.py``), so they cannot disagree with report.json. Figures are
PNG bytes kept beside it. A section whose data are missing says what is missing and which command fills it.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from datacomp.analysis import findings as fnd
from datacomp.analysis import guidelines as gl
from datacomp.analysis import stats
from datacomp.analysis.formatting import fmt
from datacomp.errors import DatacompError
from datacomp.evaluation.baselines import TUNED_SUFFIX, is_baseline, is_budgeted, is_tuned
from datacomp.store import Store
from datacomp.store.runs import environment, record_run, to_jsonable

METRICS = ("f1", "em", "bleu", "nll_reduction")  # nll_reduction: 1 - target_nll / none's, per example


@dataclasses.dataclass
class ReportConfig:
    quality_metric: str = "f1"        # token F1 is what all three papers report for reconstruction and QA
    task: str | None = None           # None: the task with the most compressor evaluations
    target_f1: float | None = None    # the user's quality target (0-1, or points if > 1); None: no threshold
    alpha: float = 0.05               # the conventional family-wise level; adjusted p-values are compared to it
    correction: str = "holm"          # Holm controls the family-wise error with no independence assumption; "bh" for FDR
    n_boot: int = 1000                # percentile-bootstrap resamples: CI ends stable to about +-0.01 in r
    seed: int = 0                     # the bootstrap seed: same store + same seed = same report
    confidence: float = 0.95          # interval level for every CI in the report
    n_bins: int = 5                   # quantile bins for binned means: about 20% of documents each
    min_n: int = 10                   # fewer complete documents than this: a statistic is reported as not computed
    max_compressors: int = 8          # compressors analysed per report (most-evaluated first); keeps it readable
    max_figure_compressors: int = 3   # compressors that get their own scatter + binned figures
    max_runs: int = 50                # runs listed under provenance (newest first)
    figures: bool = True              # False: numbers only (faster; sections say no figure was drawn)
    title: str = "datacomp report"

    def validate(self) -> None:
        if self.quality_metric not in METRICS:
            raise DatacompError(f"--quality-metric must be one of {', '.join(METRICS)}, not {self.quality_metric!r}")
        if not 0 < self.alpha < 1:
            raise DatacompError(f"--alpha must be between 0 and 1, got {self.alpha}")
        if self.correction not in stats.CORRECTIONS:
            raise DatacompError(f"--correction must be one of {', '.join(stats.CORRECTIONS)}, not {self.correction!r}")
        if self.target_f1 is not None and not 0 <= self.target_f1 <= 100:
            raise DatacompError(f"--target-f1 must be in 0-1 (or 0-100 points), got {self.target_f1}")
        if not 0 < self.confidence < 1:
            raise DatacompError(f"--confidence must be between 0 and 1, got {self.confidence}")

    def target_fraction(self) -> float | None:
        """The target on the metrics' 0-1 scale (values above 1 are read as points)."""
        if self.target_f1 is None:
            return None
        return self.target_f1 / 100 if self.target_f1 > 1 else self.target_f1


class FigureBook:
    """Named PNG figures; when disabled nothing is drawn and no figure is listed in the report."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.png: dict[str, bytes] = {}

    def draw(self, name: str, make: Callable[[], bytes]) -> list[str]:
        """Draw ``make()`` under ``name``; returns the names to list in the section ([] when disabled)."""
        if not self.enabled:
            return []
        self.png[name] = make()
        return [name]


@dataclasses.dataclass
class Report:
    data: dict[str, Any]
    figures: dict[str, bytes]


SCALE = 100.0  # metrics are stored on 0-1; users read them in points


# ----------------------------------------------------------------------------- sections
def _audit(store: Store, figures: FigureBook, confidence: float) -> dict[str, Any]:
    from datacomp.analysis import plots

    corpora = store.rows("analysis/corpora")
    quarantine = store.rows("analysis/quarantine_reasons")
    lengths = store.rows("analysis/document_lengths")
    section: dict[str, Any] = {"corpora": corpora, "quarantine": quarantine,
                               "quarantine_total": sum(q["n"] for q in quarantine),
                               "totals": {"n_docs": sum(c["n_docs"] for c in corpora),
                                          "n_chars": sum(c["n_chars"] for c in corpora)}}
    if not lengths:
        section["missing"] = ("no documents in the store: run `datacomp corpora prepare` (demo corpora) or "
                              "`datacomp ingest PATH --corpus NAME`")
        section["length_by_domain"] = []
        return section
    by_domain: dict[str, list[float]] = defaultdict(list)
    for row in lengths:
        by_domain[row["domain"]].append(row["n_chars"])
    section["length_by_domain"] = [{"domain": d, **stats.describe(v)} for d, v in sorted(by_domain.items())]
    section["figures"] = figures.draw("length_hist", lambda: plots.histograms_by_domain(
        {d: np.log10(np.maximum(v, 1)) for d, v in by_domain.items()},
        xlabel="document length, log10(characters)", title="Document length by domain"))
    return section


def _scores(store: Store, figures: FigureBook) -> dict[str, Any]:
    from datacomp.analysis import plots

    models = store.rows("analysis/scored_models")
    section: dict[str, Any] = {"models": models, "by_domain": []}
    if not models:
        section["missing"] = ("no scores: run `datacomp score --corpus NAME --encoder MODEL --decoder MODEL` "
                              "to measure per-document entropy, surprisal and the gap")
        return section
    panels: dict[str, dict[str, list[float]]] = {}
    for model in models:
        rows = store.rows("analysis/document_scores", {k: model[k] for k in ("model_id", "window_len", "stride",
                                                                             "dtype")})
        by_domain: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_domain[row["domain"]].append(row)
        name = model["name"] or model["model_id"]
        for domain, docs in sorted(by_domain.items()):
            entropy = stats.describe([d["entropy_mean"] for d in docs])
            section["by_domain"].append({
                "model": name, "model_id": model["model_id"], "domain": domain, "n": entropy["n"],
                "entropy_mean": entropy["mean"], "entropy_median": entropy["median"], "entropy_std": entropy["std"],
                "surprisal_mean": stats.describe([d["surprisal_mean"] for d in docs])["mean"],
                "bits_per_byte_mean": stats.describe([d["bits_per_byte"] for d in docs])["mean"]})
        panels[name] = {d: [r["entropy_mean"] for r in docs] for d, docs in by_domain.items()}
    section["figures"] = figures.draw("entropy_hist", lambda: plots.histograms_by_model_and_domain(
        panels, xlabel="mean predictive entropy (nats/token)",
        title="Predictive entropy per document by domain" + (" (first 6 models)" if len(panels) > 6 else "")))
    return section


def _gaps(store: Store, figures: FigureBook) -> dict[str, Any]:
    from datacomp.analysis import plots

    pairs = store.rows("analysis/gap_pairs")
    section: dict[str, Any] = {"pairs": pairs}
    if not pairs:
        section["missing"] = ("no encoder-decoder gaps: run `datacomp score --corpus NAME --encoder MODEL "
                              "--decoder MODEL` (both models in one run)")
        return section
    token = [p for p in pairs if p["method"] == "token"]
    use = token or pairs
    value_key, value_label = ("js_mean", "JS gap (nats/token)") if token else \
        ("bpb_diff_mean", "bits/byte, encoder - decoder")
    encoders = sorted({p["encoder_name"] for p in use})
    decoders = sorted({p["decoder_name"] for p in use})
    matrix = [[None] * len(decoders) for _ in encoders]
    counts = [[0] * len(decoders) for _ in encoders]
    for p in use:
        i, j = encoders.index(p["encoder_name"]), decoders.index(p["decoder_name"])
        matrix[i][j], counts[i][j] = p[value_key], p["n"]
    section["figures"] = figures.draw("gap_heatmap", lambda: plots.gap_heatmap(
        matrix, encoders, decoders, counts, value_label=value_label,
        title="Encoder x decoder knowledge gap (mean over documents)"))
    section["heatmap_value"] = value_key
    return section


def _choose_task(store: Store, requested: str | None) -> tuple[str | None, list[dict[str, Any]]]:
    tasks = store.rows("analysis/evaluation_tasks")
    if requested is not None:
        if requested not in {t["task"] for t in tasks}:
            known = ", ".join(t["task"] for t in tasks) or "none"
            raise DatacompError(f"--task {requested!r} has no evaluations in {store.path} (tasks present: {known})")
        return requested, tasks
    return (tasks[0]["task"] if tasks else None), tasks


def _mean_ci(values: list[float], confidence: float) -> dict[str, Any]:
    return stats.mean_interval([v for v in values if v is not None], confidence)


def _methods_table(examples: list[dict[str, Any]], metric: str, confidence: float) -> list[dict[str, Any]]:
    """One row per compressor and per baseline (full/none overall; truncate/drop per target ratio)."""
    # baseline values by (system, compressor they ran beside, example): a compressor's gain is computed
    # against the baselines of its own evaluation (same decoder, same examples)
    baseline_by_example: dict[tuple, list[float]] = defaultdict(list)
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in examples:
        if is_baseline(row["system"]):
            if row[metric] is not None:
                baseline_by_example[(row["system"], row["compressor_id"], row["example_id"])].append(row[metric])
                baseline_by_example[(row["system"], None, row["example_id"])].append(row[metric])
            ratio = row["ratio_target"] if is_budgeted(row["system"]) else None
            # a baseline through a tuned decoder belongs to that compressor's decoder: never pooled
            label = f"{row['system']} ({row['compressor_id']})" if is_tuned(row["system"]) else row["system"]
            groups[("baseline", label, row["system"], ratio)].append(row)
        else:
            groups[("compressor", row["system"], row["compressor_method"] or row["method"],
                    row["compressor_ratio"] if row["compressor_ratio"] is not None else row["ratio_target"])
                   ].append(row)
    table = []
    for (kind, system, method, ratio), rows in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
        quality = _mean_ci([r[metric] for r in rows], confidence)
        entry = {"kind": kind, "system": system, "method": method, "ratio_target": ratio,
                 "ratio_actual": stats.describe([r["ratio_actual"] for r in rows])["mean"],
                 "mean": quality["mean"], "ci_low": quality["ci_low"], "ci_high": quality["ci_high"],
                 "n": quality["n"], "compress_ms": stats.describe([r["compress_ms"] for r in rows])["median"],
                 "full_mean": None, "none_mean": None, "gain": None}
        if kind == "compressor" or is_budgeted(method):
            tuned = kind == "baseline" and is_tuned(method)   # its gain: against full/none through that decoder
            suffix = TUNED_SUFFIX if tuned else ""
            keys = {(r["compressor_id"] if kind == "compressor" or tuned else None, r["example_id"]) for r in rows}
            full = [v for c, e in keys for v in baseline_by_example.get(("full" + suffix, c, e), [])]
            none = [v for c, e in keys for v in baseline_by_example.get(("none" + suffix, c, e), [])]
            if full and none and entry["mean"] is not None:
                entry["full_mean"], entry["none_mean"] = float(np.mean(full)), float(np.mean(none))
                spread = entry["full_mean"] - entry["none_mean"]
                entry["gain"] = (entry["mean"] - entry["none_mean"]) / spread if spread != 0 else None
        table.append(entry)
    return table


def _evaluations(store: Store, config: ReportConfig, figures: FigureBook) -> dict[str, Any]:
    from datacomp.analysis import plots

    task, tasks = _choose_task(store, config.task)
    section: dict[str, Any] = {"tasks": tasks, "task": task, "metric": config.quality_metric, "methods": []}
    if task is None:
        section["missing"] = ("no evaluations: train a compressor with `datacomp train --method autoencoder "
                              "--ratio 4 --train-slice S --encoder M --decoder M`, then run `datacomp evaluate "
                              "--compressor C --slice S --task reconstruction`")
        return section
    examples = store.rows("analysis/evaluation_examples", {"task": task})
    metric = config.quality_metric
    table = _methods_table(examples, metric, config.confidence)
    section["methods"] = table
    section["paired"], section["context_use"] = _paired(examples, task, metric, config)
    section["coverage"] = store.rows("analysis/evaluation_coverage", {"task": task})
    section["coverage_warnings"] = coverage_warnings(section["coverage"])
    series, levels = _ratio_series(examples, table, metric, config.confidence)
    section["figures"] = figures.draw("quality_vs_ratio", lambda: plots.quality_vs_ratio(
        series, levels, ylabel=f"{gl.METRIC_NAMES[metric]} (points, 0-100)",
        title=f"{task}: {gl.METRIC_NAMES[metric]} vs compression ratio, with baselines"))
    return section


def coverage_warnings(coverage: list[dict[str, Any]]) -> list[str]:
    """One line per domain that an evaluation's slice holds but the evaluation never reached."""
    return [f"{c['eval_id']}: no {c['domain']} document evaluated ({c['n_available']} in its slice)"
            for c in coverage if c["n_evaluated"] == 0 and c["n_available"]]


def _paired(examples: list[dict[str, Any]], task: str, metric: str, config: ReportConfig
            ) -> tuple[list[dict], list[dict]]:
    """Per evaluation (same examples): the compressor against every baseline and full against none on the
    report's metric (evaluation/comparisons.py), and whether the decoder reads its context at all: full
    above none by a paired CI that excludes 0; otherwise compression findings are not testable on it."""
    from datacomp.evaluation.comparisons import PAIRED_METRICS, paired_comparisons

    by_eval: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in examples:
        by_eval[row["eval_id"]].append(row)
    paired, context_use = [], []
    for eval_id, rows in sorted(by_eval.items()):
        compressor = next((r["compressor_id"] for r in rows if r["system"] == r["compressor_id"]), None)
        systems = sorted({r["system"] for r in rows}, key=lambda s: (s != compressor, s))
        wanted = metric if metric in PAIRED_METRICS[task] else PAIRED_METRICS[task][0]
        for c in paired_comparisons(rows, systems, compressor, task, seed=config.seed, n_boot=config.n_boot,
                                    confidence=config.confidence, metrics=(wanted,)):
            if c["mean"] is None:
                continue
            c = {**c, "eval_id": eval_id, "compressor_id": compressor}
            paired.append(c)
            if (c["a"], c["b"]) in (("full", "none"), ("full@tuned", "none@tuned")):
                reads = c["excludes_zero"] and c["mean"] > 0
                context_use.append({"eval_id": eval_id, "compressor_id": compressor, "decoder": c["a"],
                                    "metric": c["metric"],
                                    "difference": c["mean"], "ci_low": c["ci_low"], "ci_high": c["ci_high"],
                                    "p_wilcoxon": c["p_wilcoxon"], "n": c["n"], "reads_context": reads})
    return paired, context_use


def _ratio_series(examples: list[dict[str, Any]], table: list[dict[str, Any]], metric: str,
                  confidence: float) -> tuple[dict[str, list], dict[str, tuple[float, int]]]:
    """Figure data: per method (compressors pooled) and per ratio-bearing baseline, one point per target
    ratio at the mean actual ratio; full / none context as levels. All in points."""
    groups: dict[tuple[str, float], list[dict[str, Any]]] = defaultdict(list)
    for row in examples:
        if row["system"] in ("full", "none") or is_tuned(row["system"]) or row[metric] is None:
            continue   # full / none are levels; tuned-decoder baselines belong to one compressor's table row
        name = row["system"] if is_baseline(row["system"]) else (row["compressor_method"] or row["method"])
        ratio = row["ratio_target"] if row["ratio_target"] is not None else row["compressor_ratio"]
        if ratio is not None:
            groups[(name, ratio)].append(row)
    series: dict[str, list] = defaultdict(list)
    for (name, ratio), rows in groups.items():
        quality = _mean_ci([r[metric] for r in rows], confidence)
        actual = stats.describe([r["ratio_actual"] for r in rows])["mean"] or ratio
        series[name].append((actual, quality["mean"] * SCALE, _scale(quality["ci_low"]), _scale(quality["ci_high"]),
                             quality["n"]))
    levels = {row["system"]: (row["mean"] * SCALE, row["n"]) for row in table
              if row["kind"] == "baseline" and row["system"] in ("full", "none") and row["mean"] is not None}
    return dict(series), levels


def _scale(value: float | None) -> float | None:
    return None if value is None else value * SCALE


def _findings(store: Store, config: ReportConfig, task: str | None,
              figures: FigureBook) -> dict[str, Any]:
    from scipy.stats import norm

    from datacomp.analysis import plots
    from datacomp.analysis.regression import predict_mean

    metric = config.quality_metric
    section: dict[str, Any] = {"correction": config.correction, "alpha": config.alpha, "metric": metric,
                               "compressors": [], "sweeps": [], "items": [], "skipped": []}
    if task is None:
        section["missing"] = "no evaluations yet, so no findings: see the evaluation section for the commands"
        return section
    rows = store.rows("analysis/compressor_documents", {"task": task})
    by_compressor: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row.get(metric) is not None:
            by_compressor[row["compressor_id"]].append(row)
    settings = fnd.AnalysisSettings(metric=metric, n_boot=config.n_boot, seed=config.seed,
                                    confidence=config.confidence, n_bins=config.n_bins, min_n=config.min_n,
                                    target=config.target_fraction())
    ordered = sorted(by_compressor.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    analyses = []
    for compressor_id, docs in ordered:
        scored = sum(d.get("enc_entropy") is not None for d in docs)
        if len(analyses) >= config.max_compressors:
            section["skipped"].append(f"{compressor_id}: beyond --max-compressors {config.max_compressors}")
        elif len(docs) < config.min_n:
            section["skipped"].append(
                f"{compressor_id}: only {len(docs)} evaluated documents (need {config.min_n}); evaluate it on a "
                "larger slice: `datacomp evaluate --compressor C --slice S --task T`")
        elif scored < config.min_n:
            section["skipped"].append(
                f"{compressor_id}: {scored} of {len(docs)} evaluated documents have encoder scores (need "
                f"{config.min_n}); score them: `datacomp score --corpus NAME --encoder "
                f"{docs[0]['encoder_id'] or 'MODEL'} --decoder {docs[0]['decoder_id'] or 'MODEL'}`"
                + ("" if docs[0]["encoder_id"] else " (the compressor records no encoder model)"))
        else:
            analyses.append(fnd.compressor_analysis(docs, settings))
    sweeps = fnd.gap_sweep_analysis([r for r in rows if r.get(metric) is not None], settings)
    family = [f for a in analyses for f in a["findings"]] + [f for s in sweeps for f in s["findings"]]
    fnd.correct_findings(family, config.correction, config.alpha)
    for i, finding in enumerate(family, start=1):
        finding["id"] = f"F{i}"
    section["items"] = family
    if not rows:
        section["missing"] = (f"the {task} evaluations name no document of the store (doc_id empty or not ingested), "
                              "so quality cannot be joined with per-document entropy: evaluate on a slice of "
                              "ingested documents, e.g. `datacomp evaluate --compressor C --slice S --task "
                              "reconstruction` or `--task span-recall`")
    elif not analyses:
        section["missing"] = ("no compressor has enough evaluated documents with scores: " +
                              ("; ".join(section["skipped"]) or f"evaluate on at least {config.min_n} documents"))
    for k, analysis in enumerate(analyses[:config.max_figure_compressors if figures.enabled else 0]):
        fit = analysis.pop("_fit")
        enc_bins = [stats.Bin(**b) for b in analysis["bins"].get("enc_entropy", [])]
        dec_bins = [stats.Bin(**b) for b in analysis["bins"].get("dec_entropy", [])]
        doc_rows = by_compressor[analysis["compressor_id"]]
        x = [r.get("enc_entropy") for r in doc_rows]
        y = [r.get(metric) for r in doc_rows]
        keep = [i for i in range(len(x)) if x[i] is not None and y[i] is not None]
        fit_x = fit_mean = fit_low = fit_high = None
        if "enc_entropy" in fit.exog_names:
            xs = np.array([x[i] for i in keep], dtype=float)
            fit_x = np.linspace(xs.min(), xs.max(), 60)
            mean, se = predict_mean(fit, "enc_entropy", fit_x)
            z = float(norm.ppf(0.5 + config.confidence / 2))
            fit_mean, fit_low, fit_high = mean * SCALE, (mean - z * se) * SCALE, (mean + z * se) * SCALE
        name = gl.METRIC_NAMES[metric]
        scatter = f"scatter_{k}"
        target = config.target_fraction()
        analysis["figures"] = figures.draw(scatter, lambda: plots.scatter_with_fit(
            [x[i] for i in keep], [y[i] * SCALE for i in keep], fit_x, fit_mean, fit_low, fit_high,
            xlabel="encoder predictive entropy (nats/token)", ylabel=f"{name} (points, 0-100)",
            title=f"{name} vs encoder entropy: {analysis['label']}",
            fit_label="OLS (HC3) fit, other covariates at their means",
            reference=(target * SCALE, "target") if target is not None else None))
        analysis["figures"] += figures.draw(f"binned_{k}", lambda: plots.binned_side_by_side(
            enc_bins, dec_bins, left_xlabel="encoder predictive entropy (nats/token)",
            right_xlabel="decoder predictive entropy (nats/token)", ylabel=f"{name} (0-1)",
            title=f"Binned {name}: encoder vs decoder entropy ({analysis['label']})"))
    for analysis in analyses:
        analysis.pop("_fit", None)
    section["compressors"] = analyses
    section["sweeps"] = sweeps
    if not sweeps:
        section["sweep_missing"] = ("no knowledge-gap sweep: it needs at least 3 compressors with the same "
                                    "method, ratio and encoder but different decoders, evaluated on scored "
                                    "documents (run pipelines/knowledge_gap_study.toml)")
    return section


def _guidelines(evaluations: dict[str, Any], findings: dict[str, Any], config: ReportConfig) -> dict[str, Any]:
    metric = config.quality_metric
    items = []
    for analysis in findings.get("compressors", []):
        for guideline in (
            gl.entropy_threshold(analysis, metric=metric, scale=SCALE, target=config.target_fraction(),
                                 alpha=config.alpha, correction=config.correction),
            gl.entropy_vs_surprisal(analysis, "enc"),
            gl.decoder_entropy(analysis, alpha=config.alpha, correction=config.correction),
            gl.domain_difficulty(analysis, metric=metric, scale=SCALE, alpha=config.alpha,
                                 correction=config.correction),
        ):
            if guideline is not None:
                items.append(guideline)
    for sweep in findings.get("sweeps", []):
        items.append(gl.knowledge_gap(sweep, metric=metric, scale=SCALE, correction=config.correction))
    items.extend(gl.method_choice(evaluations.get("methods", []), metric=metric, scale=SCALE,
                                  paired=evaluations.get("paired", []),
                                  context_use=evaluations.get("context_use", [])))
    section: dict[str, Any] = {"items": items, "paper_claims": gl.paper_claims(
        findings.get("compressors", []), findings.get("sweeps", []), config.correction)}
    if not items:
        section["missing"] = ("no guideline can be derived yet: guidelines need evaluations of compressors on "
                              "scored documents (see the sections above for the commands)")
    return section


STATISTICS_TEXT = [
    "Correlations: Pearson, Spearman and Kendall tau-b; p-values from scipy.stats; {conf} confidence intervals "
    "by percentile bootstrap over documents ({n_boot} resamples, seed {seed}).",
    "Partial correlations: Spearman, ranks of quality and entropy residualised on ranked log length and domain "
    "indicators by least squares; t test with n - 2 - k degrees of freedom; bootstrap CI as above.",
    "Regression: OLS of quality on encoder entropy, decoder entropy, JS gap (where measured), log length and "
    "domain, with HC3 robust standard errors (statsmodels); effects in points (0-100) per nat/token.",
    "Thresholds: inverse prediction of the fitted model with the other covariates at their sample means; "
    "the interval is Fieller's (where the {conf} mean-prediction band crosses the target).",
    "Multiple testing: every p-value in the findings table is adjusted together ({correction}); a finding is "
    "called significant when its adjusted p < {alpha}.",
    "Binned means: quantile bins of the predictor, t intervals of the mean per bin.",
    "Domains: mean quality per domain with t intervals; Kruskal-Wallis H test of equal distributions "
    "(scipy.stats.kruskal), in the same correction family.",
    "NLL reduction (quality metric nll_reduction): 1 - target NLL / the no-context baseline's target NLL on the "
    "same example, teacher-forced over the target tokens and the closing eos. The floor is the plain decoder: for "
    "methods that tune the decoder (COMI, an autoencoder with decoder_lora) part of the reduction is the tuning "
    "(answer format, where to stop), not the memory. Per-example ratios are heavy-tailed where the floor is small.",
    "Entropy is the mean over a document's tokens of the model's predictive entropy -sum p log p (nats/token); "
    "surprisal is the mean cross-entropy of the actual next token. Quality is averaged over a document's "
    "examples.",
]


def _provenance(store: Store, config: ReportConfig) -> dict[str, Any]:
    runs = store.rows("analysis/runs", {"limit": config.max_runs})
    for run in runs:
        for key in ("config", "environment", "timings", "counts"):
            if isinstance(run.get(key), str):
                run[key] = json.loads(run[key])
    models = store.rows("analysis/models")
    compressors = store.rows("analysis/compressors")
    for row in models + compressors:
        for key in ("mixture", "train_info", "config"):
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
    text = [line.format(conf=f"{config.confidence:.0%}", n_boot=config.n_boot, seed=config.seed,
                        correction=config.correction, alpha=config.alpha) for line in STATISTICS_TEXT]
    return {"statistics": text, "runs": runs, "models": models, "compressors": compressors,
            "environment": environment()}


# ----------------------------------------------------------------------------- public API
def build_report(store: Store, config: ReportConfig) -> Report:
    """Read everything the report needs from the store, run the statistics, draw the figures."""
    config.validate()
    figures = FigureBook(config.figures)
    audit = _audit(store, figures, config.confidence)
    scores = _scores(store, figures)
    gaps = _gaps(store, figures)
    evaluations = _evaluations(store, config, figures)
    findings = _findings(store, config, evaluations["task"], figures)
    guidelines = _guidelines(evaluations, findings, config)
    data = {
        "title": config.title,
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "store": str(store.path),
        "config": to_jsonable(config),
        "target": config.target_fraction(),
        "scale": SCALE,
        "audit": audit, "scores": scores, "gaps": gaps, "evaluations": evaluations,
        "findings": findings, "guidelines": guidelines,
        "methods": _provenance(store, config),
        "figures": sorted(figures.png),
    }
    return Report(data=_jsonable(fnd.strip_private(data)), figures=figures.png)


def _jsonable(value: Any) -> Any:
    """Plain JSON types; non-finite floats become None (the report never prints NaN)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if value is None or isinstance(value, (int, str)):
        return value
    return str(value)


def write_report(report: Report, out_dir: str | Path) -> dict[str, Path]:
    """Write report.json, report.md (figures as files beside it) and a self-contained report.html."""
    from datacomp.analysis.render import render_html, render_markdown

    out = Path(out_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "markdown": out / "report.md", "html": out / "report.html"}
    for stale in (out / "figures").glob("*.png"):  # figures/ belongs to the report: no leftovers from older runs
        stale.unlink()
    for name, png in report.figures.items():
        (out / "figures" / f"{name}.png").write_bytes(png)
    paths["json"].write_text(json.dumps(report.data, indent=2, ensure_ascii=False), encoding="utf-8")
    paths["markdown"].write_text(render_markdown(report.data), encoding="utf-8")
    paths["html"].write_text(render_html(report.data, report.figures), encoding="utf-8")
    return paths


def make_report(store: Store, config: ReportConfig, out_dir: str | Path) -> dict[str, Path]:
    """build + write inside a recorded run (stage "report"); the run id is printed in the report."""
    with record_run(store, "report", config, seed=config.seed) as run:
        with run.phase("build"):
            report = build_report(store, config)
        report.data["run_id"] = run.run_id
        with run.phase("write"):
            paths = write_report(report, out_dir)
        run.count("findings", len(report.data["findings"]["items"]))
        run.count("guidelines", len(report.data["guidelines"]["items"]))
        run.count("figures", len(report.figures))
    return paths


__all__ = ["ReportConfig", "Report", "build_report", "write_report", "make_report", "fmt"]
