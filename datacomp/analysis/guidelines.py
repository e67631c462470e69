"""Guidelines written from the measured numbers, and only where the numbers support them.

Each function takes analysed results (dicts from ``findings.py`` after correction) and returns a guideline
``{"topic", "scope", "supported", "text", "basis"}``: ``supported`` is False when the data do not back a
recommendation, and the text then says so and why (the statistic, its interval, the adjusted p, n).
No sentence here is printed unless its numbers were computed from the store.
"""

from __future__ import annotations

from typing import Any, Sequence

from datacomp.analysis.formatting import fmt, fmt_ci, fmt_p, fmt_pct
from datacomp.evaluation.baselines import is_budgeted, is_tuned

METRIC_NAMES = {"f1": "F1", "em": "exact match", "bleu": "BLEU",
                "nll_reduction": "NLL reduction"}


def _find(findings: Sequence[dict[str, Any]], kind: str, x: str, method: str | None = None) -> dict | None:
    for f in findings:
        if f["kind"] == kind and f["x"] == x and (method is None or f["method"] == method):
            return f
    return None


def _stat_text(f: dict[str, Any], symbol: str, correction: str) -> str:
    return (f"{symbol} = {fmt(f['estimate'])}, {f['confidence']:.0%} CI {fmt_ci(f['ci_low'], f['ci_high'])}, "
            f"{correction}-adjusted p = {fmt_p(f['p_adjusted'])}, n = {f['n']}")


_TERM_NAMES = {"enc_entropy": "encoder entropy", "dec_entropy": "decoder entropy", "gap_js": "the JS gap",
               "log_len": "log length"}


def _controls(terms: Sequence[str]) -> str:
    """'controlling for decoder entropy, log length and domain' from the regression's other terms."""
    names: list[str] = []
    for term in terms:
        name = "domain" if term.startswith("C(domain)") else _TERM_NAMES.get(term, term)
        if name not in names:
            names.append(name)
    if not names:
        return "no other covariates"
    return "controlling for " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])


def entropy_threshold(analysis: dict[str, Any], *, metric: str, scale: float, target: float | None,
                      alpha: float, correction: str) -> dict[str, Any] | None:
    """The encoder-entropy level above which predicted quality falls under the user's target."""
    slope = _find(analysis["findings"], "ols", "enc_entropy")
    if slope is None:
        return None
    name = METRIC_NAMES.get(metric, metric)
    label = analysis["label"]
    per_nat = fmt(slope["estimate"] * scale)
    per_nat_ci = fmt_ci(slope["ci_low"] * scale, slope["ci_high"] * scale)
    effect = (f"{per_nat} {name} points per nat/token of encoder entropy ({slope['confidence']:.0%} CI "
              f"{per_nat_ci}; {correction}-adjusted p = {fmt_p(slope['p_adjusted'])}; n = {slope['n']}; "
              f"{_controls(slope.get('covariates') or [])})")
    basis = {"slope_points_per_nat": slope["estimate"] * scale, "ci_low": slope["ci_low"] * scale,
             "ci_high": slope["ci_high"] * scale, "p_adjusted": slope["p_adjusted"], "n": slope["n"],
             "target": target, "threshold": analysis.get("threshold")}
    guideline = {"topic": "encoder entropy threshold", "scope": label, "basis": basis}
    if not slope["significant"]:
        guideline.update(supported=False, text=(
            f"No encoder-entropy threshold for {label}: the effect is {effect}, not significant at "
            f"alpha = {alpha:g}. These data do not support filtering or ordering documents by encoder entropy."))
        return guideline
    if slope["estimate"] > 0:
        guideline.update(supported=False, text=(
            f"For {label}, higher encoder entropy went with higher {name}: {effect}. This is the opposite of "
            "the paper's finding 1, so no upper entropy threshold applies."))
        return guideline
    if target is None:
        guideline.update(supported=True, text=(
            f"For {label}, {name} falls as encoder entropy rises: {effect}. Pass --target-f1 to get the "
            "entropy level above which the predicted score drops below your target."))
        return guideline
    threshold = analysis.get("threshold") or {}
    target_text = fmt(target * scale)
    ranges = analysis["ranges"].get("enc_entropy", {})
    x = threshold.get("x")
    if not threshold.get("bounded"):
        guideline.update(supported=False, text=(
            f"For {label} the entropy at which predicted {name} crosses {target_text} points cannot be bounded: "
            f"{threshold.get('note') or 'the interval is unbounded'} ({effect})."))
        return guideline
    text = (f"For {label}, predicted {name} falls below {target_text} points when encoder entropy exceeds "
            f"{fmt(x)} nats/token ({slope['confidence']:.0%} Fieller interval "
            f"{fmt_ci(threshold['ci_low'], threshold['ci_high'])}, other covariates at their sample means). "
            f"Slope: {effect}. ")
    low, high = ranges.get("min"), ranges.get("max")
    if low is not None and x < low:
        text += (f"The threshold lies below every observed encoder entropy ({fmt(low)}–{fmt(high)}): predicted "
                 f"{name} is under the target for all documents of this kind; lower the target or the ratio.")
    elif high is not None and x > high:
        text += (f"The threshold lies above every observed encoder entropy ({fmt(low)}–{fmt(high)}): an "
                 f"extrapolation; all evaluated documents are predicted above the target.")
    else:
        text += (f"{fmt_pct(threshold.get('share_of_docs_above'))} of the evaluated documents lie above it "
                 f"(observed range {fmt(low)}–{fmt(high)}); route those to a lower compression ratio or "
                 "leave them uncompressed.")
    guideline.update(supported=True, text=text)
    return guideline


def entropy_vs_surprisal(analysis: dict[str, Any], side: str = "enc") -> dict[str, Any] | None:
    """Which of predictive entropy and surprisal (of one model) tracks quality more closely."""
    comparison = next((c for c in analysis["comparisons"] if c["first"] == f"{side}_entropy"), None)
    if comparison is None:
        return None
    model = "encoder" if side == "enc" else "decoder"
    label = analysis["label"]
    guideline = {"topic": f"{model} entropy vs surprisal", "scope": label, "basis": comparison}
    if comparison["difference"] is None:
        guideline.update(supported=False, text=f"{model.capitalize()} entropy vs surprisal for {label}: "
                                               f"not computed ({comparison['note']}).")
        return guideline
    numbers = (f"Spearman rho with quality: predictive entropy {fmt(comparison['first_estimate'])}, surprisal "
               f"{fmt(comparison['second_estimate'])}; difference of |rho| {fmt(comparison['difference'])}, "
               f"{comparison['confidence']:.0%} paired-bootstrap CI "
               f"{fmt_ci(comparison['ci_low'], comparison['ci_high'])}, n = {comparison['n']}")
    if comparison["stronger"] is None:
        guideline.update(supported=False, text=(
            f"For {label}, neither {model} predictive entropy nor {model} surprisal predicts quality better "
            f"({numbers}): the interval includes 0, so use whichever is cheaper (surprisal needs no full "
            "softmax sum)."))
    else:
        better = "predictive entropy" if comparison["stronger"].endswith("entropy") else "surprisal"
        guideline.update(supported=True, text=(
            f"For {label}, {model} {better} is the better predictor of quality ({numbers}): rank and "
            f"slice documents by {model} {better}."))
    return guideline


def decoder_entropy(analysis: dict[str, Any], *, alpha: float, correction: str) -> dict[str, Any] | None:
    """Whether the decoder's entropy matters (the paper: not with a frozen decoder)."""
    finding = _find(analysis["findings"], "correlation", "dec_entropy", "spearman")
    if finding is None or finding["estimate"] is None:
        return None
    label = analysis["label"]
    numbers = _stat_text(finding, "Spearman rho", correction)
    guideline = {"topic": "decoder entropy", "scope": label, "basis": {
        k: finding[k] for k in ("estimate", "ci_low", "ci_high", "p_value", "p_adjusted", "n")}}
    if finding["significant"]:
        guideline.update(supported=True, text=(
            f"For {label}, decoder entropy is related to quality ({numbers}, {finding['direction']}), "
            "unlike the paper's frozen-decoder finding: take the decoder's view of the data into account "
            "when curating."))
    else:
        guideline.update(supported=False, text=(
            f"For {label}, decoder entropy shows no significant relation with quality ({numbers}; not "
            f"significant at alpha = {alpha:g}), consistent with the paper's frozen-decoder finding: these "
            "data give no reason to curate by decoder entropy."))
    return guideline


def domain_difficulty(analysis: dict[str, Any], *, metric: str, scale: float, alpha: float,
                      correction: str) -> dict[str, Any] | None:
    """Which domains compress worst (the paper: math and code), when quality differs between domains."""
    finding = _find(analysis["findings"], "domain", "domain")
    if finding is None or finding["estimate"] is None:
        return None
    name = METRIC_NAMES.get(metric, metric)
    label = analysis["label"]
    domains = sorted((d for d in analysis["by_domain"] if d["mean"] is not None), key=lambda d: d["mean"])
    lowest, highest = domains[0], domains[-1]

    def describe(d: dict[str, Any]) -> str:
        return (f"{d['domain']} {fmt(d['mean'] * scale)} points (95% CI "
                f"{fmt_ci(_scaled(d['ci_low'], scale), _scaled(d['ci_high'], scale))}, n = {d['n']})")

    test = (f"Kruskal-Wallis H = {fmt(finding['estimate'])}, {correction}-adjusted p = {fmt_p(finding['p_adjusted'])}, "
            f"n = {finding['n']}")
    guideline = {"topic": "domain", "scope": label, "basis": {"test": {
        k: finding[k] for k in ("estimate", "p_value", "p_adjusted", "n")}, "by_domain": analysis["by_domain"]}}
    if finding["significant"]:
        guideline.update(supported=True, text=(
            f"For {label}, {name} differs between domains ({test}): lowest {describe(lowest)}, highest "
            f"{describe(highest)}. Give {lowest['domain']} documents a lower compression ratio, or curate the "
            "training slice towards them."))
    else:
        guideline.update(supported=False, text=(
            f"For {label}, {name} does not differ significantly between domains ({test}; not significant at alpha "
            f"= {alpha:g}; lowest {describe(lowest)}, highest {describe(highest)}): no domain-specific ratio is "
            "supported."))
    return guideline


def knowledge_gap(sweep: dict[str, Any], *, metric: str, scale: float, correction: str) -> dict[str, Any]:
    """How much quality a unit of encoder-decoder gap costs, along a sweep of decoders."""
    name = METRIC_NAMES.get(metric, metric)
    pairs = sweep["pairs"]
    pair_test = _find(sweep["findings"], "correlation", "gap_js")
    slope = _find(sweep["findings"], "ols", "gap_js")
    first, last = pairs[0], pairs[-1]
    sweep_text = (f"across {len(pairs)} decoders mean {name} went from {fmt(first['quality'] * scale)} points "
                  f"at gap {fmt(first['gap_js'])} to {fmt(last['quality'] * scale)} at gap {fmt(last['gap_js'])} "
                  f"nats/token (JS)")
    pair_text = ("" if pair_test is None or pair_test["estimate"] is None
                 else f"; across decoders {_stat_text(pair_test, 'Kendall tau', correction)}")
    guideline = {"topic": "knowledge gap", "scope": sweep["label"], "basis": {
        "pairs": pairs, "slope": slope, "pair_test": pair_test}}
    if slope is None:
        guideline.update(supported=False, text=f"For {sweep['label']}: {sweep_text}{pair_text}; the pooled "
                                               f"regression could not be fitted ({sweep['ols'].get('note')}).")
        return guideline
    per_tenth = fmt(slope["estimate"] * scale / 10)
    per_tenth_ci = fmt_ci(slope["ci_low"] * scale / 10, slope["ci_high"] * scale / 10)
    effect = (f"{per_tenth} {name} points per +0.1 nat/token of gap ({slope['confidence']:.0%} CI {per_tenth_ci}, "
              f"{correction}-adjusted p = {fmt_p(slope['p_adjusted'])}, n = {slope['n']} document evaluations)")
    if slope["significant"] and slope["estimate"] < 0:
        guideline.update(supported=True, text=(
            f"Match the decoder to the encoder ({sweep['label']}): {effect}; {sweep_text}{pair_text}. Choose "
            "the decoder whose pretraining data is closest to the encoder's (smallest measured gap)."))
    elif slope["significant"]:
        guideline.update(supported=False, text=(
            f"For {sweep['label']} a larger gap went with higher {name}: {effect}; {sweep_text}{pair_text}. "
            "This contradicts the paper's finding 2; no gap guideline."))
    else:
        guideline.update(supported=False, text=(
            f"For {sweep['label']} the gap effect is not significant: {effect}; {sweep_text}{pair_text}. "
            "These data do not show that the gap costs quality."))
    return guideline


def method_choice(rows: Sequence[dict[str, Any]], *, metric: str, scale: float,
                  paired: Sequence[dict[str, Any]] = (), context_use: Sequence[dict[str, Any]] = ()
                  ) -> list[dict[str, Any]]:
    """Per target ratio: which compressor kept most of the full-context benefit. Supported only where its
    decoder reads its context (full above none, paired) and it beats every cheap baseline at that budget
    by a paired CI on the same examples; otherwise the text says which comparison fails."""
    name = METRIC_NAMES.get(metric, metric)
    by_ratio: dict[float, list[dict[str, Any]]] = {}
    cheap: dict[float, list[dict[str, Any]]] = {}  # truncation / token dropping at the same budget
    for row in rows:
        if row.get("ratio_target") is None or row["mean"] is None:
            continue
        if row["kind"] == "compressor":
            by_ratio.setdefault(row["ratio_target"], []).append(row)
        elif is_budgeted(row["system"]) and not is_tuned(row["system"]):
            cheap.setdefault(row["ratio_target"], []).append(row)
    out = []
    for ratio, members in sorted(by_ratio.items()):
        members = sorted(members, key=lambda r: r["mean"], reverse=True)
        best = members[0]
        text = (f"At {fmt(ratio)}x, {best['method']} ({best['system']}) scored highest: {name} {fmt(best['mean'] * scale)} points "
                f"(95% CI {fmt_ci(_scaled(best['ci_low'], scale), _scaled(best['ci_high'], scale))}, n = {best['n']})")
        if best.get("gain") is not None:
            text += (f", keeping {fmt_pct(best['gain'])} of the full-context benefit (full "
                     f"{fmt(_scaled(best['full_mean'], scale))}, none {fmt(_scaled(best['none_mean'], scale))} "
                     "on the same examples)")
        elif best.get("full_mean") is not None and best.get("full_mean") == best.get("none_mean"):
            text += (f" (compression gain undefined: full and no context both score "
                     f"{fmt(_scaled(best['full_mean'], scale))})")
        supported = True
        own = [u for u in context_use if u["compressor_id"] == best["system"] and u["difference"] is not None]
        # a decoder-tuning compressor's own decoder is the tuned one (full@tuned vs none@tuned)
        reads = sorted(own, key=lambda u: u["decoder"] != "full@tuned")[:1]
        if not reads:
            supported = False
            text += ("; whether its decoder reads its context is unknown here (no full and no-context baselines "
                     "on its examples), so the comparison is not testable")
        elif not reads[0]["reads_context"]:
            supported = False
            text += ("; its decoder does not use its context here (full - none "
                     f"{fmt(reads[0]['difference'] * scale)} points, 95% CI "
                     f"{fmt_ci(_scaled(reads[0]['ci_low'], scale), _scaled(reads[0]['ci_high'], scale))}), so "
                     "compression is not testable on it")
        versus = [c for c in paired if c["a"] == best["system"] and is_budgeted(c["b"]) and not is_tuned(c["b"])
                  and c["metric"] == metric and c["mean"] is not None]
        for c in versus:
            verdict = "higher" if c["excludes_zero"] and c["mean"] > 0 else \
                "lower" if c["excludes_zero"] else "not different (CI includes 0)"
            text += (f"; vs {c['b']} on the same examples {fmt(c['mean'] * scale)} points, 95% CI "
                     f"{fmt_ci(_scaled(c['ci_low'], scale), _scaled(c['ci_high'], scale))}: {verdict}")
            if not (c["excludes_zero"] and c["mean"] > 0):
                supported = False
        if len(members) == 1:
            text += "; it is the only compressor evaluated at this ratio"
            if not versus and not cheap.get(ratio):
                supported = False
                text += " and no baseline ran at this budget, so there is nothing to compare it with"
        else:
            second = members[1]
            overlap = (best["ci_low"] is not None and second["ci_high"] is not None
                       and best["ci_low"] <= second["ci_high"])
            text += f"; next {second['method']} ({second['system']}) at {fmt(second['mean'] * scale)}"
            if overlap:
                supported = False
                text += " — the intervals overlap, so this ranking is not established by these data"
        baselines = sorted(cheap.get(ratio, []), key=lambda r: r["mean"], reverse=True)
        if baselines and not versus:   # no paired rows (older stores): the means alone
            strongest = baselines[0]
            text += "; " + ", ".join(f"{b['system']} {fmt(b['mean'] * scale)}" for b in baselines)
            if best["mean"] <= strongest["mean"]:
                supported = False
                text += (f" — no trained compressor beats {strongest['system']} at this budget: use "
                         f"{strongest['system']} here, or train longer")
        text += "."
        out.append({"topic": "method choice", "scope": f"{fmt(ratio)}x", "supported": supported, "text": text,
                    "basis": {"ratio": ratio, "ranking": [
                        {k: m.get(k) for k in ("system", "method", "mean", "ci_low", "ci_high", "n", "gain")}
                        for m in members]}})
    return out


def _scaled(value: float | None, scale: float) -> float | None:
    return None if value is None else value * scale


def paper_claims(analyses: Sequence[dict[str, Any]], sweeps: Sequence[dict[str, Any]],
                 correction: str) -> list[dict[str, Any]]:
    """Does this store reproduce "Data Distribution Matters"? One row per claim and analysed unit:
    reproduced / not reproduced / opposite, with the statistic it rests on."""
    rows = []

    def row(claim: str, scope: str, finding: dict[str, Any] | None, expect: str,
            not_applicable: str | None = None) -> None:
        if not_applicable:
            status = f"not applicable ({not_applicable})"
        elif finding is None or finding["estimate"] is None:
            status = "not testable" + (f" ({finding['note']})" if finding else "")
        elif expect == "none":
            status = "reproduced" if not finding["significant"] else "not reproduced"
        elif finding["significant"] and finding["direction"] == expect:
            status = "reproduced"
        elif finding["significant"]:
            status = "opposite"
        else:
            status = "not reproduced (not significant)"
        evidence = "–" if finding is None or finding["estimate"] is None else (
            f"{finding['method']} = {fmt(finding['estimate'])}, CI {fmt_ci(finding['ci_low'], finding['ci_high'])}, "
            f"{correction}-adjusted p = {fmt_p(finding['p_adjusted'])}, n = {finding['n']}")
        rows.append({"claim": claim, "scope": scope, "status": status, "evidence": evidence,
                     "finding_id": None if finding is None else finding.get("id")})

    for analysis in analyses:
        row("1: encoder entropy correlates negatively with quality", analysis["label"],
            _find(analysis["findings"], "correlation", "enc_entropy", "spearman"), "negative")
        row("1: decoder entropy shows no significant relation (frozen decoder)", analysis["label"],
            _find(analysis["findings"], "correlation", "dec_entropy", "spearman"), "none",
            "this compressor tunes its decoder" if analysis.get("decoder_tuned") else None)
    for sweep in sweeps:
        row("2: a larger encoder-decoder gap lowers quality", sweep["label"],
            _find(sweep["findings"], "ols", "gap_js"), "negative")
    return rows
