"""How numbers are printed: one set of functions, used by the guideline texts and both renderers, so the
Markdown, the HTML and the numbers in report.json always say the same thing."""

from __future__ import annotations

import math
from typing import Any


def fmt(value: Any, digits: int = 3) -> str:
    """A number to ``digits`` significant digits; None -> an en dash."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u2009") if abs(value) >= 10000 else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        if value == 0:
            return "0"
        if 1000 <= abs(value) < 1e9:  # lengths, counts, latencies: whole numbers with thin-space thousands
            return f"{value:,.0f}".replace(",", "\u2009")
        text = f"{value:.{digits}g}"
        return text.replace("e-0", "e-").replace("e+0", "e+")
    return str(value)


def fmt_p(value: float | None) -> str:
    """p-values: two significant digits, scientific below 1e-4."""
    if value is None:
        return "–"
    if value == 0:
        return "<1e-300"  # below double precision: scipy/statsmodels return exactly 0
    if value < 1e-4:
        return f"{value:.1e}".replace("e-0", "e-")
    return f"{value:.2g}"


def fmt_ci(low: float | None, high: float | None, digits: int = 3) -> str:
    if low is None and high is None:
        return "–"
    return f"[{fmt(low, digits)}, {fmt(high, digits)}]"


def fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def points(value: float | None, scale: float) -> float | None:
    """A metric on a 0-1 scale in points (x100), the unit users quote F1 and BLEU in."""
    return None if value is None else value * scale
