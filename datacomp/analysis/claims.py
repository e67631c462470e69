"""Does this store reproduce "Data Distribution Matters" (arXiv 2602.01778)? One row per claim and
analysed unit, with the statistics it rests on.

- Finding 1 (encoder entropy hurts compression) is tested on the compression loss, full - system on the
  same example (outcomes.py), where the full-context baseline ran: "entropy predicts compression loss"
  only when the loss rises with entropy pooled **and** within domains (partial Spearman on domain and
  length); where only full-context quality falls with entropy the row says "entropy predicts difficulty
  (full context) but not the loss". Without the baseline it is read on raw quality, as the paper did. The
  words (reproduced, pooled only, confounded, ...) follow verdicts.py's rules.
- Finding 1's frozen-decoder half (no decoder-entropy relation) is *not applicable* to a compressor that
  tunes its decoder, and otherwise *consistent* only as "no significant relation", with the interval.
- Finding 2 (a larger encoder-decoder gap hurts compression) rests on the sweep's slope of the loss with
  errors clustered by document, read beside the slope of the decoders' full-context quality.
- Nothing is testable on a compressor whose decoder does not read its context.
"""

from __future__ import annotations

from typing import Any, Sequence

from datacomp.analysis.context_use import ignored_context
from datacomp.analysis.formatting import fmt_ci
from datacomp.analysis.guidelines import find, outcome_tests
from datacomp.analysis.outcomes import FULL, LOSS, QUALITY
from datacomp.analysis.verdicts import compression_verdict, reproduction, slope_verdict, stat_text


def _evidence(findings: list[tuple[str, dict[str, Any] | None]], correction: str) -> str:
    return "; ".join(f"{label}: {stat_text(f, f['method'], correction)}" for label, f in findings
                     if f is not None) or "–"


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


def _entropy_row(analysis: dict[str, Any], x: str, correction: str, gate: str | None
                 ) -> tuple[str, str, list[tuple[str, dict | None]]]:
    """(claim, status, evidence) of finding 1 for one entropy: on the loss beside difficulty where the
    full-context baseline ran, else on raw quality (and the claim says so)."""
    subject = "trained encoder entropy" if x.startswith("trained") else "entropy"
    suffix = " (under the trained encoder)" if x.startswith("trained") else ""
    if analysis.get("outcome") == LOSS:
        loss, full, raw = (outcome_tests(analysis, x, o) for o in (LOSS, FULL, QUALITY))
        claim = f"1: higher encoder entropy, larger compression loss (full - system){suffix}"
        status = gate or compression_verdict(loss, full, subject, correction)["text"]
        evidence = [("loss pooled", loss[0]), ("loss within domains", loss[1]), ("full context pooled", full[0]),
                    ("raw quality pooled", raw[0])]
    else:
        pooled, within = outcome_tests(analysis, x, QUALITY)
        claim = f"1: encoder entropy correlates negatively with quality{suffix}"
        status = gate or _encoder_status(pooled, within, correction)
        loss = (pooled, within)
        evidence = [("pooled", pooled), ("within domains", within)]
    if loss[0] is not None and loss[0].get("duplicate_of") and not gate:
        status = (f"sensitivity only, unadjusted (near-duplicate of {loss[0]['duplicate_of']}, |rho| = "
                  f"{loss[0]['duplicate_rho']:.2f}): {status}")
    return claim, status, evidence


def paper_claims(analyses: Sequence[dict[str, Any]], sweeps: Sequence[dict[str, Any]],
                 correction: str, scale: float = 100.0) -> list[dict[str, Any]]:
    rows = []

    def row(claim: str, scope: str, status: str, evidence: list[tuple[str, dict[str, Any] | None]]) -> None:
        ids = [f.get("id") for _, f in evidence if f is not None and f.get("id")]
        rows.append({"claim": claim, "scope": scope, "status": status,
                     "evidence": _evidence(evidence, correction), "finding_id": ", ".join(ids) or None})

    for analysis in analyses:
        label = analysis["label"]
        gate = _not_testable(analysis, scale)
        for x in ("enc_entropy", "trained_enc_entropy"):
            if x == "enc_entropy" or outcome_tests(analysis, x, analysis.get("outcome", QUALITY))[0] is not None:
                claim, status, evidence = _entropy_row(analysis, x, correction, gate)
                row(claim, label, status, evidence)
        outcome = analysis.get("outcome", QUALITY)
        pooled, within = outcome_tests(analysis, "dec_entropy", outcome)
        if analysis.get("same_model"):
            status = "not applicable (encoder and decoder are one model: tested as the encoder)"
        elif analysis.get("decoder_tuned"):
            status = "not applicable (this compressor tunes its decoder)"
        else:
            status = gate or _decoder_status(pooled, within)
        on = "the compression loss" if outcome == LOSS else "quality"
        row(f"1: decoder entropy shows no significant relation with {on} (frozen decoder)", label, status,
            [("pooled", pooled), ("within domains", within)])
    for sweep in sweeps:
        loss = find(sweep["findings"], "ols", "gap_js", role=None, outcome=sweep.get("outcome", QUALITY))
        full = find(sweep["findings"], "ols", "gap_js", role=None, outcome=FULL)
        if sweep.get("context_gate"):
            status = f"not testable ({sweep['context_gate']})"
        elif sweep.get("outcome") == LOSS:
            status = slope_verdict(loss, full, "the gap")["text"]
        elif loss is None or loss["estimate"] is None or loss.get("p_value") is None:
            status = "not testable" + (f" ({loss['note']})" if loss and loss.get("note") else "")
        elif loss["significant"]:
            status = "reproduced" if loss["direction"] == "negative" else "opposite"
        else:
            status = "not reproduced (not significant)"
        claim = ("2: a larger encoder-decoder gap, a larger compression loss (full - system)"
                 if sweep.get("outcome") == LOSS else "2: a larger encoder-decoder gap lowers quality (raw quality)")
        raw = find(sweep["findings"], "ols", "gap_js", role=None, outcome=QUALITY)
        row(claim, sweep["label"], status, [("slope", loss)] + ([("full-context slope", full), ("raw-quality slope", raw)]
                                                                  if sweep.get("outcome") == LOSS else []))
    return rows
