"""Paired comparisons inside one evaluation: every system ran on the same examples, so each statement
"A beats B" rests on the per-example differences (analysis/paired.py: paired-bootstrap CI of the mean
difference, Wilcoxon signed-rank p), never on overlapping unpaired intervals.

Compared: the compressor against every baseline, each training-free system against truncate (the
simplest system of the same budget; with ``--compressor none`` these are what the training-free systems
are read against), and full against none (the test of whether the decoder uses its context at all; and full@tuned against none@tuned for a decoder-tuning compressor), on the
task's metrics and on ``nll_reduction`` = 1 - target NLL / the plain none's target NLL on the same
example (one denominator for every system, as the store's view). Differences are A - B, so for every
metric here positive favours A.
"""

from __future__ import annotations

from typing import Any

from datacomp.evaluation.baselines import TUNED_SUFFIX
from datacomp.evaluation.training_free import SYSTEMS as TRAINING_FREE

PAIRED_METRICS = {"reconstruction": ("f1", "bleu", "nll_reduction"),
                  "continuation": ("f1", "bleu", "nll_reduction"),
                  "qa": ("em", "f1", "nll_reduction"),
                  "span-recall": ("em", "f1", "nll_reduction")}


def with_nll_reduction(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with ``nll_reduction`` against the plain no-context row of the same example: the one reference
    for every system, as in the store's ``evaluations_scored`` view (so differences share a denominator)."""
    none = {r["example_id"]: r["target_nll"] for r in rows if r["system"] == "none"}
    out = []
    for r in rows:
        reference = none.get(r["example_id"])
        value = None
        if r["target_nll"] is not None and reference:
            value = 1 - r["target_nll"] / reference
        out.append({**r, "nll_reduction": value})
    return out


def comparison_pairs(systems: list[str], compressor_id: str | None) -> list[tuple[str, str]]:
    pairs = []
    if compressor_id is not None:
        pairs += [(compressor_id, other) for other in systems if other != compressor_id]
    if "truncate" in systems:
        pairs += [(other, "truncate") for other in systems if other in TRAINING_FREE]
    for full, none in (("full", "none"), ("full" + TUNED_SUFFIX, "none" + TUNED_SUFFIX)):
        if full in systems and none in systems:
            pairs.append((full, none))
    return pairs


def paired_comparisons(rows: list[dict[str, Any]], systems: list[str], compressor_id: str | None, task: str,
                       seed: int = 0, n_boot: int = 2000, confidence: float = 0.95,
                       metrics: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """One entry per (A, B, metric): the paired difference A - B over the examples both have."""
    from datacomp.analysis.paired import paired_difference

    rows = with_nll_reduction(rows)
    by_system: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_system.setdefault(r["system"], {})[r["example_id"]] = r
    out = []
    for a, b in comparison_pairs(systems, compressor_id):
        shared = sorted(set(by_system.get(a, {})) & set(by_system.get(b, {})))
        for metric in metrics or PAIRED_METRICS[task]:
            first = [by_system[a][e][metric] for e in shared]
            second = [by_system[b][e][metric] for e in shared]
            clusters = [by_system[a][e].get("doc_id") or e for e in shared]   # examples of one document resample together
            result = paired_difference(first, second, n_boot=n_boot, confidence=confidence, seed=seed,
                                       clusters=clusters)
            out.append({"a": a, "b": b, "metric": metric, **result})
    return out
