"""Guidelines about documents (entropy, surprisal, domain, the knowledge gap), written from the measured
numbers and only where they support them.

Each function takes one analysed unit (findings.py / sweeps.py, after correction) and returns
``{"topic", "scope", "supported", "text", "basis"}``; every number in the text is one of the basis's.
Rules every sentence follows:

- a compressor whose decoder does not read its context (full - none not above 0 by a paired CI) gets no
  compression guideline: the text says so, with that difference and its CI;
- an entropy effect counts only when it holds within domains (partial Spearman on domain and length) as
  well as pooled; a pooled relation that does not is worded by verdicts.py's rules (pooled only, or
  confounded only where the within-domain interval shows it);
  an entropy threshold also needs the slope (with domain and length) to exclude 0;
- "not significant" is printed with its interval and never read as "no effect".
Method choice (paired comparisons of systems) is in method_choice.py, the paper's claims in claims.py.
"""

from __future__ import annotations

from typing import Any, Sequence

from datacomp.analysis.context_use import ignored_context
from datacomp.analysis.formatting import fmt, fmt_ci, fmt_p, fmt_pct, points
from datacomp.analysis.outcomes import FULL, LOSS, QUALITY
from datacomp.analysis.verdicts import compression_verdict, reproduction, slope_verdict, stat_text

METRIC_NAMES = {"f1": "F1", "em": "exact match", "bleu": "BLEU", "nll_reduction": "NLL reduction"}


def find(findings: Sequence[dict[str, Any]], kind: str, x: str, method: str | None = None,
         role: str | None = "primary", outcome: str | None = None) -> dict | None:
    """The first finding of this kind, predictor and method; ``role`` None: whichever role it has (a
    near-duplicate predictor's tests are sensitivity, yet still answer their claim); ``outcome`` (loss,
    quality, full: outcomes.py) None: any."""
    for f in findings:
        if f["kind"] == kind and f["x"] == x and (role is None or f["role"] == role) \
                and (method is None or f["method"] == method) \
                and (outcome is None or f.get("outcome", "quality") == outcome):
            return f
    return None


def outcome_tests(analysis: dict[str, Any], x: str, outcome: str) -> tuple[dict | None, dict | None]:
    """(pooled Spearman, within-domain partial) of predictor ``x`` on one outcome, whatever their role."""
    findings = analysis["findings"]
    return (find(findings, "correlation", x, "spearman", role=None, outcome=outcome),
            find(findings, "partial", x, role=None, outcome=outcome))


def context_gate(analysis: dict[str, Any], scale: float) -> str | None:
    """Why compression findings are not testable on this compressor (its decoder ignores its context), or
    None when the decoder reads its context or nothing is known (then the text says unknown itself)."""
    gap = ignored_context(analysis.get("context"), scale)
    if gap is None:
        return None
    return (f"its decoder does not use its context here ({gap}), so quality vs the document's predictors is "
            "not a compression finding and is not testable on it")


def within_domains(analysis: dict[str, Any], x: str, correction: str) -> str:
    """'within domains partial rho = ... (code rho = ..., n = ...; literature ...)'."""
    partial = find(analysis["findings"], "partial", x)
    strata = [f for f in analysis["findings"] if f["kind"] == "stratum" and f["x"] == x]
    parts = "; ".join(f"{f['domain']} rho = {fmt(f['estimate'])} "
                      + ("(descriptive" if f.get("descriptive") else fmt_ci(f['ci_low'], f['ci_high']))
                      + f", n = {f['n']}" + (")" if f.get("descriptive") else "")
                      for f in strata if f["estimate"] is not None)
    return (f"within domains {stat_text(partial, 'partial rho', correction)}"
            + (f" (per domain: {parts})" if parts else ""))


def _controls(terms: Sequence[str]) -> str:
    names: list[str] = []
    for term in terms:
        name = "domain" if term.startswith("C(domain)") else {"log_len": "log length"}.get(term, term)
        if name not in names:
            names.append(name)
    return "controlling for " + " and ".join(names) if names else "no other covariates"


def _slope_text(slope: dict[str, Any] | None, name: str, scale: float) -> str:
    if slope is None:
        return ""
    return (f"; slope {fmt(slope['estimate'] * scale)} {name} points per nat/token ({slope['confidence']:.0%} CI "
            f"{fmt_ci(points(slope['ci_low'], scale), points(slope['ci_high'], scale))}, n = {slope['n']}, "
            f"{_controls(slope.get('covariates') or [])})")


def loss_numbers(analysis: dict[str, Any], x: str, correction: str) -> str:
    """The loss tests of predictor ``x`` beside its full-context (difficulty) test, as printed numbers."""
    loss, full = outcome_tests(analysis, x, LOSS), outcome_tests(analysis, x, FULL)
    return (f"loss (full - system) pooled {stat_text(loss[0], 'rho', correction)}; within domains "
            f"{stat_text(loss[1], 'partial rho', correction)}; full-context quality pooled "
            f"{stat_text(full[0], 'rho', correction)}")


def entropy_threshold(analysis: dict[str, Any], *, metric: str, scale: float, target: float | None,
                      alpha: float, correction: str, ratio_sweep: bool = False) -> dict[str, Any] | None:
    """The encoder-entropy level above which predicted quality falls under the user's target; only from an
    effect on the compression loss (where the full-context baseline ran) that holds within domains: a
    window that is hard with its full context too is not one compression should route away.
    ``ratio_sweep``: a compressor was evaluated at several ratios, so ratio advice may follow."""
    on_loss = analysis.get("outcome") == LOSS
    pooled, within = outcome_tests(analysis, "enc_entropy", QUALITY)
    slope = find(analysis["findings"], "ols", "enc_entropy", role="effect", outcome=QUALITY)
    if pooled is None:
        return None
    name = METRIC_NAMES.get(metric, metric)
    label = analysis["label"]
    numbers = f"pooled {stat_text(pooled, 'rho', correction)}; {within_domains(analysis, 'enc_entropy', correction)}"
    effect = _slope_text(slope, name, scale)
    basis = {"pooled": pooled, "within": within, "slope": slope, "target": target,
             "threshold": analysis.get("threshold"), "context": analysis.get("context")}
    guideline = {"topic": "encoder entropy threshold", "scope": label, "basis": basis, "supported": False}
    gate = context_gate(analysis, scale)
    if gate:
        guideline["text"] = f"No encoder-entropy guideline for {label}: {gate}."
        return guideline
    if on_loss:
        verdict = compression_verdict(outcome_tests(analysis, "enc_entropy", LOSS), outcome_tests(analysis, "enc_entropy", FULL),
                                      "encoder entropy", correction)
        basis.update(loss=outcome_tests(analysis, "enc_entropy", LOSS), verdict=verdict)
        numbers = f"{loss_numbers(analysis, 'enc_entropy', correction)}; raw {name} {numbers}"
        if verdict["word"] != "reproduced":
            why = (" High-entropy windows score lower with their full context too, so routing them away from "
                   "compression would not recover what these data show compression loses."
                   if verdict["word"] == "difficulty only" else "")
            guideline["text"] = (f"No encoder-entropy threshold for {label}: {verdict['text']} ({numbers}{effect})."
                                 f"{why}")
            return guideline
    held_within = on_loss or (within is not None and within["significant"])
    if not on_loss and held_within and not (pooled["significant"] and pooled["direction"] == within["direction"]):
        guideline["text"] = (
            f"No encoder-entropy threshold for {label}: the relation holds within domains but not pooled "
            f"({numbers}{effect}); a finding needs both (the paper's claim is about documents of every domain "
            "together), so these data support no filtering or ordering by encoder entropy.")
        return guideline
    if not held_within:
        if pooled["significant"]:
            verdict = reproduction(pooled, within, "negative", correction)["text"]
            guideline["text"] = (
                f"For {label}, {name} goes with encoder entropy only pooled over domains ({numbers}{effect}): "
                f"{verdict.split(' (')[0]}, so no entropy threshold follows from it.")
        else:
            guideline["text"] = (
                f"No encoder-entropy threshold for {label}: no significant relation pooled or within domains "
                f"({numbers}{effect}); this shows no effect, not that there is none. These data do not support "
                "filtering or ordering documents by encoder entropy.")
        return guideline
    if not on_loss and within["direction"] == "positive":
        guideline["text"] = (f"For {label}, higher encoder entropy went with higher {name} within domains "
                             f"({numbers}{effect}): the opposite of the paper's finding 1, so no upper "
                             "entropy threshold applies.")
        return guideline
    if slope is not None and not (slope["ci_high"] is not None and slope["ci_high"] < 0):
        guideline["text"] = (f"For {label}, {name} falls with encoder entropy in rank within domains as well as "
                             f"pooled ({numbers}{effect}), but the size of the effect on the {name} scale is not "
                             "established: the slope's interval includes 0, so no entropy threshold is supported.")
        return guideline
    if target is None or slope is None:
        guideline.update(supported=True, text=(
            f"For {label}, {'compression loses more' if on_loss else name + ' falls'} as encoder entropy rises, "
            f"within domains as well as pooled ({numbers}"
            f"{effect}). Pass --target-f1 to get the entropy level above which the predicted score drops "
            "below your target."))
        return guideline
    threshold = analysis.get("threshold") or {}
    x = threshold.get("x")
    if not threshold.get("bounded"):
        guideline["text"] = (f"For {label} {name} falls with encoder entropy within domains ({numbers}{effect}), "
                             f"but the entropy at which predicted {name} crosses {fmt(target * scale)} points "
                             f"cannot be bounded: {threshold.get('note') or 'the interval is unbounded'}.")
        return guideline
    ranges = analysis["ranges"].get("enc_entropy", {})
    low, high = ranges.get("min"), ranges.get("max")
    text = (f"For {label}, predicted {name} falls below {fmt(target * scale)} points when encoder entropy exceeds "
            f"{fmt(x)} nats/token ({slope['confidence']:.0%} Fieller interval "
            f"{fmt_ci(threshold['ci_low'], threshold['ci_high'])}, domain and length at their sample mix); "
            f"{numbers}{effect}. ")
    if low is not None and x < low:
        text += (f"The threshold lies below every observed encoder entropy ({fmt(low)}–{fmt(high)}): predicted "
                 f"{name} is under the target for all documents of this kind; lower the target"
                 + (" or the ratio." if ratio_sweep else " (no ratio was varied: no ratio advice follows)."))
    elif high is not None and x > high:
        text += (f"The threshold lies above every observed encoder entropy ({fmt(low)}–{fmt(high)}): an "
                 "extrapolation; all evaluated documents are predicted above the target.")
    else:
        text += (f"{fmt_pct(threshold.get('share_of_docs_above'))} of the evaluated documents lie above it "
                 f"(observed range {fmt(low)}–{fmt(high)}); " + (
                     "route those to a lower compression ratio or leave them uncompressed." if ratio_sweep else
                     "leave those uncompressed (no ratio was varied, so these data give no ratio advice)."))
    guideline.update(supported=True, text=text)
    return guideline


def entropy_vs_surprisal(analysis: dict[str, Any], side: str = "enc", scale: float = 100.0) -> dict[str, Any] | None:
    """Which of predictive entropy and surprisal (of one model) tracks quality more closely (pooled)."""
    comparison = next((c for c in analysis["comparisons"] if c["first"] == f"{side}_entropy"), None)
    if comparison is None:
        return None
    model = "encoder" if side == "enc" else "decoder"
    label = analysis["label"]
    guideline = {"topic": f"{model} entropy vs surprisal", "scope": label, "basis": comparison, "supported": False}
    gate = context_gate(analysis, scale)
    if gate:
        guideline["text"] = f"No {model} entropy-vs-surprisal guideline for {label}: {gate}."
        return guideline
    if comparison["difference"] is None:
        guideline["text"] = f"{model.capitalize()} entropy vs surprisal for {label}: not computed ({comparison['note']})."
        return guideline
    target = "the compression loss" if analysis.get("outcome") == LOSS else "quality"
    numbers = (f"Spearman rho with {target}, pooled: predictive entropy {fmt(comparison['first_estimate'])}, surprisal "
               f"{fmt(comparison['second_estimate'])}; difference of |rho| {fmt(comparison['difference'])}, "
               f"{comparison['confidence']:.0%} BCa CI {fmt_ci(comparison['ci_low'], comparison['ci_high'])}, "
               f"n = {comparison['n']}")
    if comparison["stronger"] is None:
        guideline["text"] = (f"For {label}, neither {model} predictive entropy nor {model} surprisal is shown to "
                             f"predict {target} better ({numbers}): the interval includes 0, so use whichever is "
                             "cheaper (surprisal needs no full softmax sum).")
    else:
        better = "predictive entropy" if comparison["stronger"].endswith("entropy") else "surprisal"
        guideline.update(supported=True, text=(f"For {label}, {model} {better} is the better predictor of {target} "
                                               f"({numbers}): rank and slice documents by {model} {better}."))
    return guideline


def decoder_entropy(analysis: dict[str, Any], *, alpha: float, correction: str,
                    scale: float = 100.0) -> dict[str, Any] | None:
    """Whether the decoder's entropy matters (the paper: not with a frozen decoder). A compressor that
    tunes its decoder is outside the claim: not applicable, here and in the claims table alike."""
    pooled, within = outcome_tests(analysis, "dec_entropy", analysis.get("outcome", QUALITY))
    if pooled is None or pooled["estimate"] is None:
        return None
    label = analysis["label"]
    numbers = f"pooled {stat_text(pooled, 'rho', correction)}; {within_domains(analysis, 'dec_entropy', correction)}"
    guideline = {"topic": "decoder entropy", "scope": label, "supported": False,
                 "basis": {"pooled": pooled, "within": within, "context": analysis.get("context")}}
    gate = context_gate(analysis, scale)
    if analysis.get("decoder_tuned"):
        guideline["text"] = (f"Decoder entropy for {label}: not applicable: this compressor tunes its decoder, so "
                             f"the paper's frozen-decoder finding does not apply ({numbers}).")
    elif gate:
        guideline["text"] = f"No decoder-entropy guideline for {label}: {gate}."
    elif within is not None and within["significant"]:
        guideline.update(supported=True, text=(
            f"For {label}, decoder entropy is related to quality within domains ({numbers}; {within['direction']}), "
            "unlike the paper's frozen-decoder finding: take the decoder's view of the data into account when "
            "curating."))
    elif pooled["significant"]:
        verdict = reproduction(pooled, within, pooled["direction"], correction)["text"]
        guideline["text"] = (f"For {label}, decoder entropy goes with quality only pooled over domains ({numbers}): "
                             f"{verdict.split(' (')[0]}; no reason to curate by decoder entropy.")
    else:
        guideline["text"] = (f"For {label}, decoder entropy shows no significant relation with quality ({numbers}; "
                             f"not significant at alpha = {alpha:g}), consistent with the paper's frozen-decoder "
                             "finding but not evidence of no relation: the intervals above bound it.")
    return guideline


def domain_difficulty(analysis: dict[str, Any], *, metric: str, scale: float, alpha: float,
                      correction: str, ratio_sweep: bool = False) -> dict[str, Any] | None:
    """Where compression loses most: the compression loss (full - system) and the retained share per domain,
    with the Kruskal-Wallis test on the loss. Never from raw quality (a domain that is hard with its full
    context too is not one compression treats worse), and ratio advice only where ratios were varied."""
    test = find(analysis["findings"], "domain", "domain")
    if test is None or test["estimate"] is None:
        return None
    name = METRIC_NAMES.get(metric, metric)
    label = analysis["label"]
    guideline = {"topic": "domain", "scope": label, "supported": False, "basis": {"test": {
        k: test[k] for k in ("estimate", "p_value", "p_adjusted", "n")}, "by_domain": analysis["by_domain"],
        "loss": analysis.get("loss")}}
    gate = context_gate(analysis, scale)
    if gate:
        guideline["text"] = f"No domain guideline for {label}: {gate}."
        return guideline
    if analysis.get("outcome") != LOSS:
        guideline["text"] = (f"No domain guideline for {label}: without the full-context baseline on the same "
                             f"examples only raw {name} per domain is known, which mixes how hard a domain is with "
                             "any context with what compression loses there.")
        return guideline
    domains = sorted((d for d in analysis["loss"]["by_domain"] if d["mean"] is not None), key=lambda d: -d["mean"])
    worst, best = domains[0], domains[-1]

    def describe(d: dict[str, Any]) -> str:
        return (f"{d['domain']} loses {fmt(points(d['mean'], scale))} points ({test['confidence']:.0%} CI "
                f"{fmt_ci(points(d['ci_low'], scale), points(d['ci_high'], scale))}, n = {d['n']}) of full "
                f"context's {fmt(points(d['full'], scale))}, retaining {fmt_pct(d['retained'])}")

    numbers = (f"Kruskal-Wallis H on the loss = {fmt(test['estimate'])}, {correction}-adjusted p = "
               f"{fmt_p(test['p_adjusted'])}, n = {test['n']}")
    ratio_text = (f" Give {worst['domain']} documents a lower compression ratio." if ratio_sweep else
                  " No ratio was varied, so these data give no ratio advice.")
    if test["significant"]:
        guideline.update(supported=True, text=(
            f"For {label}, the compression loss ({name}, full - system) differs between domains ({numbers}): most "
            f"lost: {describe(worst)}; least: {describe(best)}.{ratio_text}"))
    else:
        guideline["text"] = (f"For {label}, the compression loss ({name}, full - system) is not shown to differ "
                             f"between domains ({numbers}; not significant at alpha = {alpha:g}; most lost: "
                             f"{describe(worst)}; least: {describe(best)}): no domain-specific ratio is supported.")
    return guideline


def knowledge_gap(sweep: dict[str, Any], *, metric: str, scale: float, correction: str) -> dict[str, Any]:
    """How much compression loss (or, without the full baseline, quality) a unit of encoder-decoder gap
    costs along a sweep of decoders (clustered slope), beside what it does to full-context quality."""
    name = METRIC_NAMES.get(metric, metric)
    on_loss = sweep.get("outcome") == LOSS
    pairs = sweep["pairs"]
    slope = find(sweep["findings"], "ols", "gap_js")
    full = find(sweep["findings"], "ols", "gap_js", role="beside", outcome=FULL)
    pair_test = find(sweep["findings"], "correlation", "gap_js", role="sensitivity")
    first, last = pairs[0], pairs[-1]
    sweep_text = (f"across {len(pairs)} decoders mean {name} went from {fmt(first['quality'] * scale)} points "
                  f"at gap {fmt(first['gap_js'])} to {fmt(last['quality'] * scale)} at gap {fmt(last['gap_js'])} "
                  f"nats/token (JS)")
    if on_loss:
        sweep_text += (f", full-context {name} from {fmt(points(first['full'], scale))} to "
                       f"{fmt(points(last['full'], scale))}, and the retained share from {fmt_pct(first['retained'])} "
                       f"to {fmt_pct(last['retained'])}")
    pair_text = "" if pair_test is None or pair_test["estimate"] is None else \
        f"; across decoders {stat_text(pair_test, 'Kendall tau', correction)}"
    guideline = {"topic": "knowledge gap", "scope": sweep["label"], "supported": False,
                 "basis": {"pairs": pairs, "slope": slope, "full_slope": full, "pair_test": pair_test}}
    if sweep.get("context_gate"):
        guideline["text"] = f"No gap guideline for {sweep['label']}: {sweep['context_gate']} ({sweep_text})."
        return guideline
    if slope is None or slope.get("p_value") is None:
        note = sweep["ols"].get("note") if slope is None else slope.get("note")
        guideline["text"] = (f"For {sweep['label']}: {sweep_text}{pair_text}; the pooled regression could not be "
                             f"fitted ({note}).")
        return guideline

    def per_tenth(f: dict[str, Any], what: str) -> str:
        return (f"{fmt(f['estimate'] * scale / 10)} {what} points per +0.1 nat/token of gap ({f['confidence']:.0%} CI "
                f"{fmt_ci(points(f['ci_low'], scale / 10), points(f['ci_high'], scale / 10))}")

    effect = (per_tenth(slope, f"{name} loss" if on_loss else name)
              + (f", {correction}-adjusted p = {fmt_p(slope['p_adjusted'])}, n = {slope['n']} document evaluations in "
                 f"{slope['n_clusters']} documents, errors clustered by document)"))
    if on_loss and full is not None and full.get("p_value") is not None:
        effect += f"; full-context {per_tenth(full, name)}, p = {fmt_p(full['p_value'])} (unadjusted))"
    if on_loss:
        verdict = slope_verdict(slope, full, "the gap")
        guideline["basis"]["verdict"] = verdict
        if verdict["word"] == "reproduced":
            guideline.update(supported=True, text=(
                f"Match the decoder to the encoder ({sweep['label']}): {verdict['text']}: {effect}; {sweep_text}"
                f"{pair_text}. Choose the decoder whose pretraining data is closest to the encoder's (smallest "
                "measured gap)."))
        else:
            guideline["text"] = (f"No gap guideline for {sweep['label']}: {verdict['text']}: {effect}; {sweep_text}"
                                 f"{pair_text}. These data do not show that the gap costs compression, nor that it "
                                 "does not.")
        return guideline
    if slope["significant"] and slope["estimate"] < 0:
        guideline.update(supported=True, text=(
            f"Match the decoder to the encoder ({sweep['label']}): {effect}; {sweep_text}{pair_text}. Choose the "
            "decoder whose pretraining data is closest to the encoder's (smallest measured gap)."))
    elif slope["significant"]:
        guideline["text"] = (f"For {sweep['label']} a larger gap went with higher {name}: {effect}; {sweep_text}"
                             f"{pair_text}. This contradicts the paper's finding 2; no gap guideline.")
    else:
        guideline["text"] = (f"For {sweep['label']} the gap effect is not significant: {effect}; {sweep_text}"
                             f"{pair_text}. These data do not show that the gap costs quality, nor that it does not.")
    return guideline
