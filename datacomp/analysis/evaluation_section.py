"""The report's evaluation section: per-system means, the paired comparisons every statement rests on,
whether each decoder reads its context, and the compression gains with their paired CIs.

- **Systems table.** One row per compressor and per baseline; a baseline that several evaluations share
  (the same system, decoder and example) counts once, its values averaged, so n is distinct examples.
  Means carry BCa intervals (bounded metrics keep their bounds) and the share of exact zeros (a floor).
  Baselines are listed per decoder when the task has more than one. These intervals describe one system
  each; no statement compares systems through them.
- **Paired comparisons** (evaluation/comparisons.py, analysis/paired.py): inside each evaluation the
  compressor against every baseline and full against none; across evaluations, every two compressors at
  the same ratio on the examples both ran.
- **Context use**: full - none on the same examples; where its CI does not lie above 0 the decoder does
  not use its context here, and compression findings are not testable on it.
- **Gains**: (system - none) / (full - none) on the same examples with a paired-bootstrap CI, reported only
  where full - none is significant (paired.paired_gain, through comparisons.gain_on_shared: the same
  gains ``datacomp evaluate`` prints), else the reason.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Any

from datacomp.analysis.bootstrap import mean_interval, zero_share
from datacomp.analysis.descriptive import describe
from datacomp.analysis.paired import paired_difference
from datacomp.analysis.formatting import points
from datacomp.evaluation.baselines import TUNED_SUFFIX, budget_unit, is_baseline, is_budgeted, is_tuned
from datacomp.evaluation.comparisons import gain_on_shared


def _ratio(row: dict[str, Any]) -> float | None:
    if is_baseline(row["system"]):
        return row["ratio_target"] if is_budgeted(row["system"]) else None
    return row["compressor_ratio"] if row.get("compressor_ratio") is not None else row["ratio_target"]


def system_key(row: dict[str, Any], several_decoders: bool) -> tuple:
    """(kind, label, method, ratio): the table row an evaluation row belongs to."""
    system = row["system"]
    if not is_baseline(system):
        return ("compressor", system, row.get("compressor_method") or row["method"], _ratio(row))
    label = system
    if is_tuned(system):   # a baseline through one compressor's tuned decoder: never pooled across compressors
        label = f"{system} ({row['compressor_id']})"
    elif several_decoders:
        label = f"{system} ({row.get('decoder_id')})"
    return ("baseline", label, system, _ratio(row))


def distinct_rows(rows: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """One row per (system, decoder, example, ratio, tuned compressor): baseline rows shared by several
    evaluations count once, their metric averaged."""
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        owner = row["compressor_id"] if is_tuned(row["system"]) else None
        groups[(row["system"], row.get("decoder_id"), row["example_id"], _ratio(row), owner)].append(row)
    out = []
    for members in groups.values():
        values = [m[metric] for m in members if m[metric] is not None]
        out.append({**members[0], metric: sum(values) / len(values) if values else None,
                    "n_evaluations": len(members)})
    return out


def is_empty_output(text: str | None) -> bool:
    """An output with no letter or digit ('', '.', whitespace): nothing a metric could credit."""
    return text is None or not any(ch.isalnum() for ch in text)


def output_counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Share of empty outputs and how many distinct outputs one system gave; ``identical``: the same
    string for every example (a degenerate system, e.g. no context emitting one continuation for all).
    None where the store holds no predictions (likelihood-only tasks)."""
    texts = [r.get("prediction") for r in rows]
    if not texts or all(t is None for t in texts):
        return {"share_empty": None, "n_distinct_outputs": None, "identical_outputs": False}
    distinct = len(set(texts))
    return {"share_empty": sum(is_empty_output(t) for t in texts) / len(texts), "n_distinct_outputs": distinct,
            "identical_outputs": distinct == 1 and len(texts) > 1}


def methods_table(examples: list[dict[str, Any]], metric: str, confidence: float, n_boot: int = 1000,
                  seed: int = 0) -> list[dict[str, Any]]:
    several_decoders = len({r.get("decoder_id") for r in examples}) > 1
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in distinct_rows(examples, metric):
        groups[system_key(row, several_decoders)].append(row)
    table = []
    for (kind, label, method, ratio), rows in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
        values = [r[metric] for r in rows]
        quality = mean_interval(values, confidence, n_boot=n_boot, seed=seed)
        unit = budget_unit(method, None) if kind == "baseline" else budget_unit(label, method)
        table.append({"kind": kind, "system": label, "method": method, "ratio_target": ratio, "budget_unit": unit,
                      "ratio_actual": describe([r["ratio_actual"] for r in rows])["mean"],
                      "mean": quality["mean"], "ci_low": quality["ci_low"], "ci_high": quality["ci_high"],
                      "n": quality["n"], "share_zero": zero_share(values)["share_zero"],
                      "n_shared": sum(1 for r in rows if r["n_evaluations"] > 1),
                      "compress_ms": describe([r["compress_ms"] for r in rows])["median"], **output_counts(rows)})
    return table


def gains(examples: list[dict[str, Any]], metric: str, confidence: float, n_boot: int, seed: int
          ) -> list[dict[str, Any]]:
    """Per evaluation, the compressor's and each budgeted baseline's gain on the same examples: against
    plain full / none, and a tuned baseline against the tuned ones. None with the reason where the
    decoder does not read its context (full - none not above 0 by a paired CI)."""
    by_eval: dict[str, dict[str, dict[str, dict[str, Any]]]] = defaultdict(lambda: defaultdict(dict))
    for row in examples:
        by_eval[row["eval_id"]][row["system"]][row["example_id"]] = row
    out = []
    for eval_id, systems in sorted(by_eval.items()):
        for system in sorted(systems):
            if is_baseline(system) and not is_budgeted(system):
                continue
            suffix = TUNED_SUFFIX if is_tuned(system) else ""
            full, none = systems.get("full" + suffix), systems.get("none" + suffix)
            if not full or not none:
                continue
            result = gain_on_shared(systems, system, "full" + suffix, "none" + suffix, metric, n_boot=n_boot,
                                    confidence=confidence, seed=seed)
            context = result.pop("full_minus_none")
            out.append({"eval_id": eval_id, "system": system, "metric": metric, **result,
                        "full_minus_none": {k: context[k] for k in ("mean", "ci_low", "ci_high", "p_bootstrap",
                                                                    "p_wilcoxon", "n")}})
    return out


def paired_within(examples: list[dict[str, Any]], task: str, metric: str, confidence: float, n_boot: int,
                  seed: int) -> tuple[list[dict], list[dict]]:
    """Per evaluation: the compressor against every baseline and full against none (same examples), and
    whether the decoder reads its context (full above none by a paired CI)."""
    from datacomp.evaluation.comparisons import PAIRED_METRICS, paired_comparisons

    by_eval: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in examples:
        by_eval[row["eval_id"]].append(row)
    paired, context_use = [], []
    wanted = metric if metric in PAIRED_METRICS[task] else PAIRED_METRICS[task][0]
    for eval_id, rows in sorted(by_eval.items()):
        compressor = next((r["compressor_id"] for r in rows if r["system"] == r["compressor_id"]), None)
        systems = sorted({r["system"] for r in rows}, key=lambda s: (s != compressor, s))
        for c in paired_comparisons(rows, systems, compressor, task, seed=seed, n_boot=n_boot,
                                    confidence=confidence, metrics=shown_metrics(task, metric)):
            if c["mean"] is None:
                continue
            c = {**c, "eval_id": eval_id, "compressor_id": compressor}
            paired.append(c)
            if c["metric"] == wanted and (c["a"], c["b"]) in (("full", "none"), ("full@tuned", "none@tuned")):
                floor = output_counts([r for r in rows if r["system"] == c["b"]])
                context_use.append({"eval_id": eval_id, "compressor_id": compressor, "decoder": c["a"],
                                    "metric": c["metric"], "difference": c["mean"], "ci_low": c["ci_low"],
                                    "ci_high": c["ci_high"], "p_bootstrap": c["p_bootstrap"],
                                    "p_bootstrap_bound": c["p_bootstrap_bound"],
                                    "p_wilcoxon": c["p_wilcoxon"], "n": c["n"],
                                    "reads_context": c["excludes_zero"] and c["mean"] > 0,
                                    "degenerate_floor": degenerate_floor(floor, c["metric"], c["n"])})
    return paired, context_use


def shown_metrics(task: str, metric: str) -> tuple[str, ...]:
    """The report's metric first, then the task's other paired metrics: every one the paired table shows,
    and a method choice must agree on all of them."""
    from datacomp.evaluation.comparisons import PAIRED_METRICS

    wanted = metric if metric in PAIRED_METRICS[task] else PAIRED_METRICS[task][0]
    return (wanted,) + tuple(m for m in PAIRED_METRICS[task] if m != wanted)


def degenerate_floor(none_outputs: dict[str, Any], metric: str, n: int) -> str | None:
    """Why full - none only restates full's level: no context emits one output for every example, or the
    metric is 0 for no context by definition (NLL reduction is measured against it)."""
    if metric == "nll_reduction":
        return "NLL reduction is 0 for no context by definition, so full - none is full's own reduction"
    if none_outputs.get("identical_outputs"):
        return (f"no context emits the same output for all {n} examples (a degenerate floor), so full - none "
                "restates full's level")
    return None


def paired_across(examples: list[dict[str, Any]], metric: str | tuple[str, ...], confidence: float, n_boot: int,
                  seed: int, min_shared: int = 2) -> list[dict[str, Any]]:
    """Every two compressors at the same target ratio, on the examples both were evaluated on (a paired
    difference resampling documents), on each metric; pairs with fewer than ``min_shared`` shared examples
    are skipped."""
    if isinstance(metric, tuple):
        return [c for m in metric for c in paired_across(examples, m, confidence, n_boot, seed, min_shared)
                if c["mean"] is not None]
    by_compressor: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    ratio: dict[str, float | None] = {}
    for row in examples:
        if not is_baseline(row["system"]) and row[metric] is not None:
            by_compressor[row["system"]][row["example_id"]] = row
            ratio[row["system"]] = _ratio(row)
    out = []
    for a, b in combinations(sorted(by_compressor), 2):
        shared = sorted(set(by_compressor[a]) & set(by_compressor[b]))
        if ratio[a] != ratio[b] or len(shared) < min_shared:
            continue
        result = paired_difference([by_compressor[a][e][metric] for e in shared],
                                   [by_compressor[b][e][metric] for e in shared], n_boot=n_boot,
                                   confidence=confidence, seed=seed,
                                   clusters=[by_compressor[a][e]["doc_id"] or e for e in shared])
        out.append({"a": a, "b": b, "metric": metric, "eval_id": None, "compressor_id": None,
                    "ratio_target": ratio[a], **result})
    return out


def ratio_series(examples: list[dict[str, Any]], table: list[dict[str, Any]], metric: str, confidence: float,
                 scale: float) -> tuple[dict[str, list], dict[str, tuple[float, int]]]:
    """Figure data: per method (compressors pooled) and per ratio-bearing baseline, one point per target
    ratio at the mean actual ratio, with its own BCa interval; full / none context as levels. In points."""
    groups: dict[tuple[str, float], list[dict[str, Any]]] = defaultdict(list)
    for row in distinct_rows(examples, metric):
        if row["system"] in ("full", "none") or is_tuned(row["system"]) or row[metric] is None:
            continue   # full / none are levels; tuned-decoder baselines belong to one compressor's table row
        name = row["system"] if is_baseline(row["system"]) else (row.get("compressor_method") or row["method"])
        ratio = _ratio(row)
        if ratio is not None:
            groups[(name, ratio)].append(row)
    series: dict[str, list] = defaultdict(list)
    for (name, ratio), rows in groups.items():
        quality = mean_interval([r[metric] for r in rows], confidence)
        actual = describe([r["ratio_actual"] for r in rows])["mean"] or ratio
        series[name].append((actual, quality["mean"] * scale, points(quality["ci_low"], scale),
                             points(quality["ci_high"], scale), quality["n"]))
    levels = {row["system"]: (row["mean"] * scale, row["n"]) for row in table
              if row["kind"] == "baseline" and row["method"] in ("full", "none") and row["mean"] is not None}
    return dict(series), levels
