"""Constructed evaluation rows (the shape of queries/analysis/evaluation_examples.sql) for the evaluation
section and method-choice tests: every system's score per example is given, so the answer is known."""

from __future__ import annotations

from typing import Sequence


def example_rows(eval_id: str, compressor: str, method: str, scores: dict[str, Sequence[float]], *,
                 decoder: str = "dec", ratio: float = 4.0, docs: Sequence[str] | None = None,
                 metric: str = "f1") -> list[dict]:
    """One row per (system, example) of one evaluation; ``scores[system][i]`` is example i's metric."""
    n = len(next(iter(scores.values())))
    docs = docs or [f"doc{i}" for i in range(n)]
    rows = []
    for system, values in scores.items():
        is_compressor = system == compressor
        for i, value in enumerate(values):
            rows.append({"eval_id": eval_id, "system": system, "method": method if is_compressor else system,
                         "compressor_id": compressor, "decoder_id": decoder, "target_nll": None,
                         "ratio_target": ratio if system not in ("full", "none") else None, "ratio_actual": ratio,
                         "example_id": f"ex{i}", "doc_id": docs[i], "f1": None, "em": None, "bleu": None,
                         "nll_reduction": None, metric: value, "compress_ms": 1.0, "decode_ms": 1.0, "run_id": "r",
                         "compressor_method": method, "compressor_ratio": ratio})
    return rows


def sections(rows: list[dict], metric: str = "f1", task: str = "reconstruction", n_boot: int = 400) -> dict:
    """The evaluation section's parts, as report.py builds them."""
    from datacomp.analysis import evaluation_section as ev

    boot = dict(confidence=0.95, n_boot=n_boot, seed=0)
    paired, context_use = ev.paired_within(rows, task, metric, **boot)
    return {"methods": ev.methods_table(rows, metric, **boot), "paired": paired, "context_use": context_use,
            "across": ev.paired_across(rows, ev.shown_metrics(task, metric), **boot),
            "gains": ev.gains(rows, metric, **boot)}
