"""The words a claim's verdict may use, by explicit rules over a pooled test and its within-domain test
(the partial Spearman on domain and log length). The rules are printed in the report's methods section
(``RULES``), and the claims table and the guidelines read their words from here, so both say the same.

- **reproduced**: pooled and within-domain estimates agree in sign (the expected one) and both tests pass;
- **pooled only**: the pooled test passes, the within-domain test does not, and its CI still contains the
  pooled estimate: "not significant within domains", with that CI; no confound is shown;
- **confounded**: the pooled test passes and the within-domain CI excludes the pooled estimate, or it
  contains 0 with a point estimate near 0 (|estimate| < ``NEAR_ZERO``). The confounder named is the
  domain, and the length too only when length varies (it is a covariate) and controlling for it moves the
  within-domain estimate by at least ``LENGTH_MATTERS``;
- **within domains only**, **opposite** (a significant estimate against the expected sign), **not
  significant** (neither passes: no effect shown, with the interval, which is not evidence of none).

Intervals printed beside an adjusted p are the tests' own (unadjusted) intervals and say so.
"""

from __future__ import annotations

from typing import Any

from datacomp.analysis.formatting import fmt, fmt_ci, fmt_p

NEAR_ZERO = 0.1        # a rank correlation this close to 0 is "near 0"
LENGTH_MATTERS = 0.05  # controlling for length moves the within-domain rho by this much: length is named

RULES = (
    "Verdict words: 'reproduced' when the pooled test and the within-domain test (partial Spearman on domain "
    "and log length) both pass (adjusted p < alpha) with estimates of the same, expected sign; 'pooled only: "
    "not significant within domains' when the pooled test passes and the within-domain one does not but its "
    "CI contains the pooled estimate; 'confounded' only when the within-domain CI excludes the pooled "
    f"estimate, or contains 0 with |estimate| < {NEAR_ZERO:g}. The confounder named is domain, and length "
    f"only when length varies in the rows (5% or more) and controlling for it moves the within-domain "
    f"estimate by {LENGTH_MATTERS:g} or more. 'opposite': a significant estimate of the other sign. CIs "
    "printed beside an adjusted p are unadjusted and labelled so."
)


def ci_text(f: dict[str, Any]) -> str:
    """'95% CI [-0.43, -0.02] (unadjusted)' beside an adjusted p; without the label otherwise."""
    label = " (unadjusted)" if f.get("role") == "primary" and f.get("p_adjusted") is not None else ""
    return f"{f.get('confidence', 0.95):.0%} CI {fmt_ci(f.get('ci_low'), f.get('ci_high'))}{label}"


def stat_text(f: dict[str, Any] | None, symbol: str, correction: str) -> str:
    """'rho = -0.71, 95% CI [-0.8, -0.6] (unadjusted), holm-adjusted p = 1e-5, n = 60' (or why not computed)."""
    if f is None:
        return f"{symbol} not computed"
    if f.get("estimate") is None or f.get("p_value") is None:
        note = f.get("note") or "no p-value"
        return f"{symbol} {note}" if note.startswith("not computed") else f"{symbol} not computed ({note})"
    p_label = f"{correction}-adjusted p = {fmt_p(f['p_adjusted'])}" if f["role"] == "primary" else \
        f"p = {fmt_p(f['p_value'])} (unadjusted)"
    return f"{symbol} = {fmt(f['estimate'])}, {ci_text(f)}, {p_label}, n = {f['n']}"


def confounders(within: dict[str, Any] | None) -> str:
    """'domain' or 'domain or length': length only where it is a covariate and moves the estimate."""
    if within is None or "log_length" not in (within.get("covariates") or []):
        return "domain"
    without = within.get("estimate_without_length")
    if without is None or within.get("estimate") is None or abs(within["estimate"] - without) < LENGTH_MATTERS:
        return "domain"
    return "domain or length"


def _passes(f: dict[str, Any] | None) -> bool:
    return f is not None and f.get("estimate") is not None and bool(f.get("significant"))


def reproduction(pooled: dict[str, Any] | None, within: dict[str, Any] | None, expected: str,
                 correction: str) -> dict[str, str]:
    """{"word", "text"}: the verdict on a pooled test and its within-domain test, ``expected`` the sign
    ("negative" / "positive") the claim predicts."""
    if pooled is None or pooled.get("estimate") is None or pooled.get("p_value") is None:
        note = (pooled or {}).get("note")
        return {"word": "not testable", "text": "not testable" + (f" ({note})" if note else "")}
    if any(_passes(f) and f["direction"] not in (expected, "differs") for f in (pooled, within)):
        return {"word": "opposite", "text": "opposite (a significant relation of the other sign)"}
    if _passes(pooled) and _passes(within):
        return {"word": "reproduced", "text": "reproduced (pooled and within domains)"}
    if _passes(pooled):
        if within is None or within.get("estimate") is None:
            return {"word": "pooled only", "text": "pooled only (no within-domain test: "
                                                   f"{(within or {}).get('note') or 'not computed'})"}
        inside = stat_text(within, "partial rho", correction)
        low, high, estimate = within["ci_low"], within["ci_high"], pooled["estimate"]
        excludes_pooled = low is not None and high is not None and not low <= estimate <= high
        near_zero = (low is not None and high is not None and low <= 0 <= high
                     and abs(within["estimate"]) < NEAR_ZERO)
        if excludes_pooled or near_zero:
            why = (f"the within-domain CI excludes the pooled estimate {fmt(estimate)}" if excludes_pooled
                   else f"within domains the estimate is near 0 (|rho| < {NEAR_ZERO:g}) and its CI contains 0")
            return {"word": "confounded", "text": f"confounded by {confounders(within)}: {why} ({inside})"}
        return {"word": "pooled only", "text": f"pooled only: not significant within domains ({inside}); its CI "
                                               f"contains the pooled estimate {fmt(estimate)}, so no confound is shown"}
    if _passes(within):
        return {"word": "within domains only", "text": "within domains only (not significant pooled)"}
    return {"word": "not significant", "text": f"not reproduced (not significant: pooled {ci_text(pooled)}; no "
                                               "effect shown, which is not evidence of none)"}


def _related(verdict: dict[str, str]) -> bool:
    """A significant relation somewhere (pooled or within domains), of the expected sign."""
    return verdict["word"] in ("reproduced", "pooled only", "within domains only", "confounded")


def compression_verdict(loss: tuple[dict | None, dict | None], full: tuple[dict | None, dict | None],
                        subject: str, correction: str) -> dict[str, str]:
    """The claim "higher ``subject`` hurts compression" on the loss (full - system: expected positive), read
    beside the same test on full-context quality (difficulty: expected negative). The verdict names which
    it is: "entropy predicts compression loss" or "entropy predicts difficulty (full context) but not the
    loss"."""
    on_loss = reproduction(*loss, "positive", correction)
    on_full = reproduction(*full, "negative", correction)
    difficulty = _related(on_full)
    if on_loss["word"] == "not testable":
        return on_loss
    if on_loss["word"] == "reproduced":
        return {"word": "reproduced", "text": f"{subject} predicts compression loss: reproduced (pooled and within "
                                              "domains)" + ("; it predicts difficulty (full context) too"
                                                            if difficulty else "")}
    if on_loss["word"] == "opposite":
        return {"word": "opposite", "text": f"opposite: higher {subject} went with a smaller compression loss"}
    if difficulty:
        return {"word": "difficulty only", "text": f"{subject} predicts difficulty (full context) but not the loss: "
                                                   f"on the loss {on_loss['text']}; on full-context quality "
                                                   f"{on_full['word']}"}
    return {"word": on_loss["word"], "text": f"{subject} predicts neither the loss nor difficulty (full context): "
                                             f"on the loss {on_loss['text']}"}


def slope_verdict(loss: dict | None, full: dict | None, subject: str) -> dict[str, str]:
    """The same reading for one slope per outcome (the knowledge-gap sweep: no within-domain test)."""
    def passes(f: dict | None, sign: str) -> bool:
        return _passes(f) and f["direction"] == sign

    if loss is None or loss.get("estimate") is None or loss.get("p_value") is None:
        note = (loss or {}).get("note")
        return {"word": "not testable", "text": "not testable" + (f" ({note})" if note else "")}
    difficulty = passes(full, "negative")
    if passes(loss, "positive"):
        return {"word": "reproduced", "text": f"{subject} predicts compression loss: reproduced"
                                              + ("; it predicts difficulty (full context) too" if difficulty else "")}
    if passes(loss, "negative"):
        return {"word": "opposite", "text": f"opposite: a larger {subject} went with a smaller compression loss"}
    if difficulty:
        return {"word": "difficulty only", "text": f"{subject} predicts difficulty (the decoder's full-context "
                                                   f"quality) but not the loss: the loss slope is not significant "
                                                   f"({ci_text(loss)})"}
    return {"word": "not significant", "text": f"not reproduced (not significant: the loss slope's {ci_text(loss)})"}
