"""Paired comparisons inside one evaluation: every system ran on the same examples, so each statement
"A beats B" rests on the per-example differences (analysis/paired.py: paired-bootstrap CI of the mean
difference, Wilcoxon signed-rank p), never on overlapping unpaired intervals.

Compared: the compressor against every baseline, each training-free system against truncate (the simplest
system of the same budget; with ``--compressor none`` these are what the training-free systems are read
against), and full against none (the test of whether the decoder uses its context at all; and full@tuned
against none@tuned for a decoder-tuning compressor), on the task's metrics and on ``nll_reduction`` = 1 -
target NLL / the plain none's target NLL on the same example (one denominator for every system, as the store's
view). Differences are A - B, so for every metric here positive favours A.

Compression gains (system - none) / (full - none) come from analysis/paired.paired_gain on the examples the
three systems share: defined only where full - none is significant by its paired CI (on small data a
ratio of two means near each other prints +462471 otherwise). The summary of ``evaluate`` and the report's
evaluation section both take them from ``gain_on_shared``.
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


LOWER_IS_BETTER = frozenset({"target_nll"})   # gained by falling: signs flip so that full - none > 0 reads
# metrics with one value per system, not per example: no paired CI of full - none, so no gain
NOT_PER_EXAMPLE = {"corpus_bleu": "corpus BLEU is one number per system, so full - none has no paired CI "
                                  "(see the gain of bleu, per example)"}


def rows_by_system(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """system -> example_id -> row."""
    by_system: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_system.setdefault(r["system"], {})[r["example_id"]] = r
    return by_system


def gain_on_shared(by_system: dict[str, dict[str, dict[str, Any]]], system: str, full: str, none: str,
                   metric: str, seed: int = 0, n_boot: int = 2000, confidence: float = 0.95) -> dict[str, Any]:
    """paired_gain of ``system`` against ``full`` / ``none`` on the examples all three have (the examples of
    one document resampled together): gain, ci_low, ci_high, n, reason, full_minus_none."""
    from datacomp.analysis.paired import paired_gain

    shared = sorted(set(by_system[system]) & set(by_system[full]) & set(by_system[none]))
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0

    def values(name: str) -> list[float | None]:
        return [None if by_system[name][e].get(metric) is None else sign * by_system[name][e][metric]
                for e in shared]

    return paired_gain(values(system), values(none), values(full), n_boot=n_boot, confidence=confidence,
                       seed=seed, clusters=[by_system[system][e].get("doc_id") or e for e in shared])


def system_gains(rows: list[dict[str, Any]], system: str, metrics: tuple[str, ...], suffix: str = "",
                 seed: int = 0, n_boot: int = 2000, confidence: float = 0.95) -> dict[str, dict[str, Any]]:
    """metric -> {gain, ci_low, ci_high, reason} of one system against full / none (``suffix`` TUNED_SUFFIX:
    against full@tuned / none@tuned); the gain None with its reason where it is not testable."""
    by_system = rows_by_system(rows)
    full, none = "full" + suffix, "none" + suffix
    out = {}
    for metric in metrics:
        if full not in by_system or none not in by_system or system not in by_system:
            out[metric] = {"gain": None, "ci_low": None, "ci_high": None,
                           "reason": f"needs the {full} and {none} baselines"}
        elif metric in NOT_PER_EXAMPLE:
            out[metric] = {"gain": None, "ci_low": None, "ci_high": None, "reason": NOT_PER_EXAMPLE[metric]}
        else:
            result = gain_on_shared(by_system, system, full, none, metric, seed=seed, n_boot=n_boot,
                                    confidence=confidence)
            out[metric] = {k: result[k] for k in ("gain", "ci_low", "ci_high", "reason")}
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

    by_system = rows_by_system(with_nll_reduction(rows))
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
