"""Does this store reproduce "Data Distribution Matters" (arXiv 2602.01778)? One row per claim and
analysed unit, with the statistics it rests on.

- Finding 1 (encoder entropy lowers quality) is *reproduced* only when the Spearman correlation is
  significantly negative pooled **and** the partial Spearman on domain and length is significantly
  negative within domains; the other words (pooled only, confounded, ...) follow verdicts.py's rules.
- Finding 1's frozen-decoder half (no decoder-entropy relation) is *not applicable* to a compressor that
  tunes its decoder, and otherwise *consistent* only as "no significant relation", with the interval.
- Finding 2 (a larger encoder-decoder gap lowers quality) rests on the sweep's slope with errors clustered
  by document.
- Nothing is testable on a compressor whose decoder does not read its context.
"""

from __future__ import annotations

from typing import Any, Sequence

from datacomp.analysis.context_use import ignored_context
from datacomp.analysis.formatting import fmt_ci
from datacomp.analysis.guidelines import find
from datacomp.analysis.verdicts import reproduction, stat_text


def _evidence(findings: list[dict[str, Any] | None], correction: str) -> str:
    parts = []
    for label, f in zip(("pooled", "within domains"), findings):
        if f is not None:
            parts.append(f"{label}: {stat_text(f, f['method'], correction)}")
    return "; ".join(parts) or "–"


def _not_testable(analysis: dict[str, Any], scale: float) -> str | None:
    gap = ignored_context(analysis.get("context"), scale)
    return None if gap is None else f"not testable (the decoder does not use its context here: {gap})"


def _encoder_status(pooled: dict | None, within: dict | None, correction: str) -> str:
    return reproduction(pooled, within, "negative", correction)["text"]


def _decoder_status(pooled: dict | None, within: dict | None) -> str:
    if pooled is None or pooled["estimate"] is None:
        return "not testable" + (f" ({pooled['note']})" if pooled else "")
    if within is not None and within["significant"]:
        return "not reproduced (related within domains)"
    if pooled["significant"]:
        return "not reproduced pooled; not significant within domains"
    return (f"consistent: no significant relation (CI {fmt_ci(pooled['ci_low'], pooled['ci_high'])}), "
            "which does not show there is none")


def paper_claims(analyses: Sequence[dict[str, Any]], sweeps: Sequence[dict[str, Any]],
                 correction: str, scale: float = 100.0) -> list[dict[str, Any]]:
    rows = []

    def row(claim: str, scope: str, status: str, evidence: list[dict[str, Any] | None]) -> None:
        ids = [f.get("id") for f in evidence if f is not None and f.get("id")]
        rows.append({"claim": claim, "scope": scope, "status": status,
                     "evidence": _evidence(evidence, correction), "finding_id": ", ".join(ids) or None})

    for analysis in analyses:
        label, findings = analysis["label"], analysis["findings"]
        gate = _not_testable(analysis, scale)
        pooled = find(findings, "correlation", "enc_entropy", "spearman")
        within = find(findings, "partial", "enc_entropy")
        row("1: encoder entropy correlates negatively with quality", label,
            gate or _encoder_status(pooled, within, correction), [pooled, within])
        pooled = find(findings, "correlation", "trained_enc_entropy", "spearman", role=None)
        if pooled is not None:
            within = find(findings, "partial", "trained_enc_entropy", role=None)
            status = gate or _encoder_status(pooled, within, correction)
            if pooled.get("duplicate_of") and not gate:
                status = (f"sensitivity only, unadjusted (near-duplicate of {pooled['duplicate_of']}, |rho| = "
                          f"{pooled['duplicate_rho']:.2f}): {status}")
            row("1: encoder entropy correlates negatively with quality (under the trained encoder)", label,
                status, [pooled, within])
        pooled = find(findings, "correlation", "dec_entropy", "spearman")
        within = find(findings, "partial", "dec_entropy")
        if analysis.get("same_model"):
            status = "not applicable (encoder and decoder are one model: tested as the encoder)"
        elif analysis.get("decoder_tuned"):
            status = "not applicable (this compressor tunes its decoder)"
        else:
            status = gate or _decoder_status(pooled, within)
        row("1: decoder entropy shows no significant relation (frozen decoder)", label, status, [pooled, within])
    for sweep in sweeps:
        slope = find(sweep["findings"], "ols", "gap_js")
        if sweep.get("context_gate"):
            status = f"not testable ({sweep['context_gate']})"
        elif slope is None or slope["estimate"] is None:
            status = "not testable"
        elif slope["significant"]:
            status = "reproduced" if slope["direction"] == "negative" else "opposite"
        else:
            status = "not reproduced (not significant)"
        row("2: a larger encoder-decoder gap lowers quality", sweep["label"], status, [slope])
    return rows
