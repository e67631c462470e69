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
import typing
from typing import Any, Callable, Literal

import numpy as np

from datacomp.analysis import evaluation_section as ev
from datacomp.analysis import guidelines as gl
from datacomp.analysis.claims import paper_claims
from datacomp.analysis.coverage import coverage_section
from datacomp.analysis.descriptive import describe
from datacomp.analysis.findings_section import findings_section
from datacomp.analysis.formatting import fmt
from datacomp.analysis.method_choice import method_choice
from datacomp.analysis.methods_text import STATISTICS_TEXT
from datacomp.analysis.multiple_testing import CORRECTIONS
from datacomp.config_checks import at_least, between, choices, one_of, positive
from datacomp.errors import ConfigError
from datacomp.store import Store
from datacomp.store.run_liveness import with_shown_status
from datacomp.store.runs import environment, record_run, to_jsonable

QualityMetric = Literal["f1", "em", "bleu", "nll_reduction"]  # nll_reduction: 1 - target_nll / none's, per example
METRICS = typing.get_args(QualityMetric)


@dataclasses.dataclass
class ReportConfig:
    quality_metric: QualityMetric = "f1"       # token F1 is what all three papers report for reconstruction and QA
    task: str | None = None           # None: the task with the most compressor evaluations
    target_f1: float | None = None    # the user's quality target (0-1, or points if > 1); None: no threshold
    alpha: float = 0.05               # the conventional family-wise level; adjusted p-values are compared to it
    correction: str = "holm"          # Holm controls the family-wise error with no independence assumption; "bh" for FDR
    n_boot: int = 1000                # BCa bootstrap resamples: CI ends stable to about +-0.01 in r; p >= 2/1001
    seed: int = 0                     # the bootstrap seed: same store + same seed = same report
    confidence: float = 0.95          # interval level for every CI in the report
    n_bins: int = 5                   # quantile bins for binned means: about 20% of documents each
    min_n: int = 10                   # fewer complete documents than this: a statistic is reported as not computed
    max_compressors: int = 8          # compressors analysed per report (most-evaluated first); keeps it readable
    max_figure_compressors: int = 3   # compressors that get their own scatter + binned figures
    max_runs: int = 50                # runs listed under provenance (newest first)
    figures: bool = True              # False: numbers only (faster; sections say no figure was drawn)
    title: str = "datacomp report"

    def __post_init__(self) -> None:
        choices(self)
        one_of("correction", self.correction, CORRECTIONS)
        between(self, "alpha", 0, 1, strict=True)
        between(self, "confidence", 0, 1, strict=True)
        if self.target_f1 is not None and not 0 <= self.target_f1 <= 100:
            raise ConfigError("target_f1", f"must be in 0-1 (or 0-100 points), got {self.target_f1}")
        positive(self, "n_boot", "n_bins", "max_compressors")
        at_least(self, "min_n", 1)
        at_least(self, "max_figure_compressors", 0)
        at_least(self, "max_runs", 0)

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
    section["length_by_domain"] = [{"domain": d, **describe(v)} for d, v in sorted(by_domain.items())]
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
            entropy = describe([d["entropy_mean"] for d in docs])
            section["by_domain"].append({
                "model": name, "model_id": model["model_id"], "domain": domain, "n": entropy["n"],
                "entropy_mean": entropy["mean"], "entropy_median": entropy["median"], "entropy_std": entropy["std"],
                "surprisal_mean": describe([d["surprisal_mean"] for d in docs])["mean"],
                "bits_per_byte_mean": describe([d["bits_per_byte"] for d in docs])["mean"]})
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
            raise ConfigError("task", f"{requested!r} has no evaluations in {store.path} (tasks present: {known})")
        return requested, tasks
    return (tasks[0]["task"] if tasks else None), tasks


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
    boot = dict(confidence=config.confidence, n_boot=config.n_boot, seed=config.seed)
    table = ev.methods_table(examples, metric, **boot)
    section["methods"] = table
    section["paired"], section["context_use"] = ev.paired_within(examples, task, metric, **boot)
    section["across"] = ev.paired_across(examples, ev.shown_metrics(task, metric), **boot)
    section["gains"] = ev.gains(examples, metric, **boot)
    section.update(coverage_section(store, task))
    series, levels = ev.ratio_series(examples, table, metric, config.confidence, SCALE)
    section["figures"] = figures.draw("quality_vs_ratio", lambda: plots.quality_vs_ratio(
        series, levels, ylabel=f"{gl.METRIC_NAMES[metric]} (points, 0-100)",
        title=f"{task}: {gl.METRIC_NAMES[metric]} vs compression ratio, with baselines"))
    return section


def has_ratio_sweep(methods: list[dict[str, Any]]) -> bool:
    """Was one method evaluated at two or more target ratios? Only then may a guideline advise a ratio."""
    ratios: dict[str, set] = defaultdict(set)
    for row in methods:
        if row["kind"] == "compressor" and row.get("ratio_target") is not None:
            ratios[row["method"]].add(row["ratio_target"])
    return any(len(r) >= 2 for r in ratios.values())


def _guidelines(evaluations: dict[str, Any], findings: dict[str, Any], config: ReportConfig) -> dict[str, Any]:
    metric, correction, alpha = config.quality_metric, config.correction, config.alpha
    items = []
    ratio_sweep = has_ratio_sweep(evaluations.get("methods", []))
    for analysis in findings.get("compressors", []):
        for guideline in (
            gl.entropy_threshold(analysis, metric=metric, scale=SCALE, target=config.target_fraction(),
                                 alpha=alpha, correction=correction, ratio_sweep=ratio_sweep),
            gl.entropy_vs_surprisal(analysis, "enc", scale=SCALE),
            gl.decoder_entropy(analysis, alpha=alpha, correction=correction, scale=SCALE),
            gl.domain_difficulty(analysis, metric=metric, scale=SCALE, alpha=alpha, correction=correction,
                                 ratio_sweep=ratio_sweep),
        ):
            if guideline is not None:
                items.append(guideline)
    for sweep in findings.get("sweeps", []):
        items.append(gl.knowledge_gap(sweep, metric=metric, scale=SCALE, correction=correction))
    items.extend(method_choice(evaluations.get("methods", []), metric=metric, scale=SCALE,
                               paired=evaluations.get("paired", []), context_use=evaluations.get("context_use", []),
                               across=evaluations.get("across", []), gains=evaluations.get("gains", [])))
    section: dict[str, Any] = {"items": items, "paper_claims": paper_claims(
        findings.get("compressors", []), findings.get("sweeps", []), correction, SCALE)}
    if not items:
        section["missing"] = ("no guideline can be derived yet: guidelines need evaluations of compressors on "
                              "scored documents (see the sections above for the commands)")
    return section




def _provenance(store: Store, config: ReportConfig) -> dict[str, Any]:
    runs = with_shown_status(store.rows("analysis/runs", {"limit": config.max_runs}))   # a dead run is not 'running'
    for run in runs:
        for key in ("config", "environment", "timings", "counts"):
            if isinstance(run.get(key), str):
                run[key] = json.loads(run[key])
    from datacomp.models.copy_test import copy_test_rows, verdict_by_model

    models = store.rows("analysis/models")
    verdicts = verdict_by_model(copy_test_rows(store))
    for model in models:
        model["copy_test"] = verdicts.get(model["model_id"])   # does it read its context?
    compressors = store.rows("analysis/compressors")
    for row in models + compressors:
        for key in ("mixture", "train_info", "config"):
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
    text = [line.format(conf=f"{config.confidence:.0%}", n_boot=config.n_boot, seed=config.seed,
                        correction=config.correction, alpha=config.alpha, level=f"{1 - config.confidence:.2g}")
            for line in STATISTICS_TEXT]
    return {"statistics": text, "runs": runs, "models": models, "compressors": compressors,
            "environment": environment()}


# ----------------------------------------------------------------------------- public API
def build_report(store: Store, config: ReportConfig) -> Report:
    """Read everything the report needs from the store, run the statistics, draw the figures."""
    figures = FigureBook(config.figures)
    audit = _audit(store, figures, config.confidence)
    scores = _scores(store, figures)
    gaps = _gaps(store, figures)
    evaluations = _evaluations(store, config, figures)
    findings = findings_section(store, config, evaluations["task"], figures, evaluations.get("context_use", []),
                                SCALE)
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
    return Report(data=_jsonable(_public(data)), figures=figures.png)


def _public(value: Any) -> Any:
    """Drop keys starting with '_' (fitted objects kept for plots) before serialising."""
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list):
        return [_public(v) for v in value]
    return value


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

    from datacomp.ownership import mark_folder

    out = Path(out_dir)
    claim_report_folder(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "markdown": out / "report.md", "html": out / "report.html"}
    for stale in (out / "figures").glob("*.png"):  # figures/ belongs to the report: no leftovers from older runs
        stale.unlink()
    for name, png in report.figures.items():
        (out / "figures" / f"{name}.png").write_bytes(png)
    paths["json"].write_text(json.dumps(report.data, indent=2, ensure_ascii=False), encoding="utf-8")
    paths["markdown"].write_text(render_markdown(report.data), encoding="utf-8")
    paths["html"].write_text(render_html(report.data, report.figures), encoding="utf-8")
    mark_folder(out, "report")
    return paths


REPORT_NAMES = ("report.json", "report.md", "report.html", "figures")


def claim_report_folder(out: Path) -> None:
    """The report writes its own names into ``out`` (other files there are left alone), so an unmarked folder is
    refused only when it holds one of them that is not an earlier report's (datacomp.ownership)."""
    from datacomp.ownership import claim_folder

    def free(folder: Path) -> bool:
        try:
            earlier = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            earlier = None
        if isinstance(earlier, dict) and {"generated_at", "audit", "findings"} <= set(earlier):
            return True
        return not any((folder / name).exists() for name in REPORT_NAMES)

    claim_folder(out, "report", legacy=free)


def make_report(store: Store, config: ReportConfig, out_dir: str | Path) -> dict[str, Path]:
    """build + write inside a recorded run (stage "report"); the run id is printed in the report."""
    claim_report_folder(Path(out_dir))   # before minutes of statistics, not after
    with record_run(store, "report", config, seed=config.seed) as run:
        with run.phase("build"):
            report = build_report(store, config)
        report.data["run_id"] = run.run_id
        for listed in report.data["methods"]["runs"]:   # read while this run was open: "running" would mislead
            if listed["run_id"] == run.run_id:
                listed["status"] = "this report"
        with run.phase("write"):
            paths = write_report(report, out_dir)
        run.count("findings", len(report.data["findings"]["items"]))
        run.count("guidelines", len(report.data["guidelines"]["items"]))
        run.count("figures", len(report.figures))
    return paths


__all__ = ["ReportConfig", "Report", "build_report", "write_report", "make_report", "claim_report_folder", "fmt"]
