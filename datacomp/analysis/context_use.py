"""Does the decoder a compressor used read its context? One answer for every section that gates on it.

``context_use`` rows come from the evaluation section: per evaluation, full - none on the same examples (and
full@tuned - none@tuned for a decoder-tuning compressor), with its paired CI and ``reads_context`` (the CI
above 0). Compression findings on a decoder that does not read its context are not testable.
"""

from __future__ import annotations

from typing import Any

from datacomp.analysis.formatting import fmt, fmt_ci, points


def context_of(compressor_id: str, context_use: list[dict[str, Any]]) -> dict[str, Any] | None:
    """full - none on the decoder a compressor used (full@tuned for a decoder-tuning one). Its findings pool
    every evaluation, so every one must show the decoder reading its context: the first that does not is
    returned when there is one (else the first). None when no evaluation ran both baselines."""
    own = [u for u in context_use if u["compressor_id"] == compressor_id and u["difference"] is not None]
    tuned = {u["eval_id"] for u in own if u["decoder"] == "full@tuned"}
    own = [u for u in own if u["decoder"] == "full@tuned" or u["eval_id"] not in tuned]   # the decoder it used
    own.sort(key=lambda u: (bool(u.get("reads_context")), u["eval_id"]))
    return own[0] if own else None


def sweep_context_gate(sweep: dict[str, Any], context_use: list[dict[str, Any]]) -> str | None:
    """Why a gap sweep is not testable: a decoder of it that does not (or is not shown to) read its context."""
    failing = []
    for pair in sweep["pairs"]:
        context = context_of(pair["compressor_id"], context_use)
        if context is None:
            failing.append(f"{pair['decoder_id']} (full and none not both evaluated)")
        elif not context.get("reads_context"):
            failing.append(f"{pair['decoder_id']} (full - none not above 0 by its CI)")
    if not failing:
        return None
    return ("not every decoder of the sweep is shown to read its context, so quality differences between them "
            "are not compression findings: " + "; ".join(failing))


def ignored_context(context: dict[str, Any] | None, scale: float) -> str | None:
    """'full - none 0.77 points, CI [-0.6, 2.1] on the same examples' when the decoder does not read its
    context (``context_of``'s row), else None: the one wording of the gate that claims and guidelines cite."""
    if context is None or context.get("reads_context"):
        return None
    return (f"{context.get('decoder', 'full')} - none {fmt(points(context['difference'], scale))} points, CI "
            f"{fmt_ci(points(context['ci_low'], scale), points(context['ci_high'], scale))} on the same examples")
