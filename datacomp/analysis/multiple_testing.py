"""Adjusting p-values within a family: Holm (family-wise error) or Benjamini-Hochberg (false discovery
rate). Which tests form a family is decided by the caller (findings.correct_findings: one family per
compressor or sweep, one test per question)."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def _sorted_family(p_values: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray]:
    """(values, indices of the present p-values in ascending order); None and NaN are not in the family."""
    values = np.array([np.nan if p is None else float(p) for p in p_values], dtype=float)
    valid = np.flatnonzero(np.isfinite(values))
    return values, valid[np.argsort(values[valid], kind="stable")]


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values (family-wise error). Missing p-values stay None and are not
    counted in the family."""
    values, order = _sorted_family(p_values)
    out: list[float | None] = [None] * len(values)
    running = 0.0
    for i, idx in enumerate(order):
        running = max(running, (order.size - i) * values[idx])
        out[idx] = min(1.0, running)
    return out


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg step-up adjusted p-values (false discovery rate); None stays None."""
    values, order = _sorted_family(p_values)
    out: list[float | None] = [None] * len(values)
    running = 1.0
    for i in range(order.size - 1, -1, -1):
        idx = order[i]
        running = min(running, values[idx] * order.size / (i + 1))
        out[idx] = min(1.0, running)
    return out


CORRECTIONS = {"holm": holm, "bh": benjamini_hochberg}


def adjust(p_values: Sequence[float | None], correction: str = "holm") -> list[float | None]:
    if correction not in CORRECTIONS:
        raise ValueError(f"unknown correction {correction!r}; choose one of {sorted(CORRECTIONS)}")
    return CORRECTIONS[correction](p_values)


