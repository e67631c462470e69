"""Findings rows, their roles, and the multiple-testing families.

Every test the report prints is one finding row ``{family, question, role, method, estimate, ci_low,
ci_high, p_value, n, ...}``. Only one test per question is *primary* and enters its family's correction;
the rest are printed beside it and say what they are:

- ``primary``: the one test of a question (Spearman for an association; the partial Spearman on domain and
  length for "within domains"; Kruskal-Wallis for domains; the clustered slope for the gap sweep);
- ``sensitivity``: the same question another way (Pearson, Kendall; the sweep's Kendall across decoders;
  a predictor that near-duplicates another, |Spearman| > 0.9 on the same rows: findings.NEAR_DUPLICATE),
  outside the family, its p unadjusted;
- ``stratum``: the association within one domain, descriptive and unadjusted;
- ``effect``: a regression slope with domain and length, the effect size in the metric's units;
- ``beside``: where the compression loss is the primary outcome (outcomes.py), the same question on raw
  quality and on full-context quality (difficulty), outside the family: what the loss is read beside.

A family is one compressor's questions (or one knowledge-gap sweep's): adding an unrelated compressor to
the store never changes another's adjusted p-values. Verdicts never read "not significant" as "no effect":
they carry the interval.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

from datacomp.analysis.formatting import fmt_ci, fmt_p
from datacomp.analysis.multiple_testing import adjust

ROLES = ("primary", "sensitivity", "stratum", "effect", "beside")


def finding(kind: str, family: str, question: str, x: str, y: str, result: Any, *, role: str = "primary",
            **extra: Any) -> dict[str, Any]:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    out = {"kind": kind, "group": family, "family": family, "question": question, "x": x, "y": y, "role": role}
    out.update(result.to_dict() if hasattr(result, "to_dict") else result)
    out.update(extra)
    return out


def _interval(f: dict[str, Any]) -> str:
    if f.get("ci_low") is None and f.get("ci_high") is None:
        return "no interval"
    return f"{f.get('confidence', 0.95):.0%} CI {fmt_ci(f['ci_low'], f['ci_high'])}"


def correct_findings(findings: Iterable[dict[str, Any]], correction: str, alpha: float) -> list[dict[str, Any]]:
    """Adjust the primary p-values within each family; add direction, significance and the verdict."""
    findings = list(findings)
    families: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        if f["role"] == "primary":
            families[f["family"]].append(f)
    for members in families.values():
        for f, p_adj in zip(members, adjust([m.get("p_value") for m in members], correction)):
            f["p_adjusted"] = p_adj
    for f in findings:
        f.setdefault("p_adjusted", None)
        _verdict(f, correction, alpha)
    return findings


def _verdict(f: dict[str, Any], correction: str, alpha: float) -> None:
    estimate = f.get("estimate")
    if f.get("descriptive"):   # a stratum too small for a test: its estimate is printed, not tested
        f.update(direction="undefined", significant=False, verdict=f"within one domain, {f['note']}")
        return
    if estimate is None or f.get("p_value") is None:
        # an estimate without a p (its standard error undefined) is not a result either
        note = f.get("note") or "no p-value"
        f.update(direction="undefined", significant=False,
                 verdict=note if note.startswith("not computed") else f"not computed: {note}")
        return
    primary = f["role"] == "primary"
    p = f["p_adjusted"] if primary else f.get("p_value")
    f["significant"] = p is not None and p < alpha
    if f.get("directional", True):
        f["direction"] = "negative" if estimate < 0 else "positive" if estimate > 0 else "zero"
    else:
        f["direction"] = "differs" if f["significant"] else "no difference shown"
    label = f"{correction}-adjusted p" if primary else "p (unadjusted)"
    prefix = {"primary": "", "sensitivity": "sensitivity, outside the family: ",
              "stratum": "within one domain, descriptive: ", "effect": "effect size, outside the family: ",
              "beside": f"beside the loss, outside the family ({f.get('y')}): "}[f["role"]]
    if f.get("duplicate_of"):
        prefix = (f"sensitivity, outside the family (a near-duplicate of {f['duplicate_of']}: |rho| = "
                  f"{f['duplicate_rho']:.2f} on the same rows): ")
    if f["significant"]:
        f["verdict"] = f"{prefix}{f['direction']}, significant ({label} = {fmt_p(p)} < {alpha:g}; {_interval(f)})"
    else:
        f["verdict"] = (f"{prefix}not significant ({label} = {fmt_p(p)} >= {alpha:g}; {_interval(f)}): "
                        "no effect shown, which is not evidence of none")
