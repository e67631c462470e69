"""Which documents an evaluation reached: n evaluated per domain beside n its slice (or corpus) holds,
and a warning for every domain it never reached (a limit drawn as a prefix of the slice used to leave
whole domains out; evaluation now draws in hash order, and the report checks)."""

from __future__ import annotations

from typing import Any


def coverage_warnings(coverage: list[dict[str, Any]]) -> list[str]:
    """One line per domain that an evaluation's source holds but the evaluation never reached."""
    return [f"{c['eval_id']}: no {c['domain']} document evaluated ({c['n_available']} in its slice)"
            for c in coverage if c["n_evaluated"] == 0 and c["n_available"]]


def coverage_section(store, task: str) -> dict[str, Any]:
    rows = store.rows("analysis/evaluation_coverage", {"task": task})
    return {"coverage": rows, "coverage_warnings": coverage_warnings(rows)}
