"""The method-choice guideline: which compressor to use at a ratio, written only from paired comparisons
on the same examples, never from the overlap of per-system intervals.

Per target ratio, every compressor gets one clause: whether its decoder reads its context (full - none on
its examples), its gain over no context as a share of the full context's (with a paired CI, only where
the decoder reads its context), and where it stands against no context and each cheap baseline at its
budget (truncate, drop, selective): above, below, not different, or identical, each with the difference
and its CI. Compressors at the same ratio are compared with each other on the examples both ran.
A choice is supported only for a compressor whose decoder reads its context and that is above no context,
every cheap baseline and every other compressor at that ratio, on every quality metric the paired table
shows (the report's metric and the task's others): where one metric favours another system the sentence
says so and that no single choice follows. A compressor's share of empty outputs is printed in its clause.
"""

from __future__ import annotations

from typing import Any, Sequence

from datacomp.analysis.context_use import context_of, ignored_context
from datacomp.analysis.formatting import fmt, fmt_ci, fmt_p, points
from datacomp.analysis.guidelines import METRIC_NAMES
from datacomp.evaluation.baselines import is_budgeted, is_tuned


def reading(c: dict[str, Any]) -> str:
    """above / below / not different / identical: the CI's reading of A - B."""
    if c.get("identical"):
        return "identical"
    if c["excludes_zero"]:
        return "above" if c["mean"] > 0 else "below"
    return "not different"


def difference_text(c: dict[str, Any], scale: float) -> str:
    if c.get("identical"):
        return "the same score on every example"
    text = (f"{fmt(points(c['mean'], scale))} points, {c.get('confidence', 0.95):.0%} CI "
            f"{fmt_ci(points(c['ci_low'], scale), points(c['ci_high'], scale))}, Wilcoxon p = {fmt_p(c['p_wilcoxon'])}")
    if c.get("wilcoxon_disagrees"):
        text += ", which disagrees with the CI: the mean difference rests on a few examples"
    return text


def _standing(compressor: str, paired: Sequence[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """The compressor against no context and each cheap baseline of its own evaluation."""
    return [c for c in paired if c["a"] == compressor and c["metric"] == metric and c["mean"] is not None
            and (c["b"] == "none" or (is_budgeted(c["b"]) and not is_tuned(c["b"])))]


def _grouped(comparisons: Sequence[dict[str, Any]], scale: float) -> str:
    parts = []
    for word in ("above", "below", "not different from", "identical to"):
        key = word.split(" ")[0] if word != "not different from" else "not different"
        members = [c for c in comparisons if reading(c) == key]
        if members:
            parts.append(f"{word} " + ", ".join(f"{c['b']} ({difference_text(c, scale)})" for c in members))
    return "; ".join(parts)


def compressor_clause(compressor: str, method: str, *, paired: Sequence[dict[str, Any]],
                      context_use: Sequence[dict[str, Any]], gains: Sequence[dict[str, Any]], metric: str,
                      scale: float) -> tuple[str, bool]:
    """One compressor's sentence part and whether it passes the bar (reads context, above no context and
    every cheap baseline)."""
    clause = f"{method} ({compressor})"
    context = context_of(compressor, context_use)
    ok = True
    if context is None:
        ok = False
        clause += (": whether its decoder reads its context is unknown (no full and no-context baselines on its "
                   "examples), so compression is not testable on it")
    elif not context["reads_context"]:
        ok = False
        clause += (f": its decoder does not use its context here ({ignored_context(context, scale)}), so "
                   "compression is not testable on it")
    else:
        gain = next((g for g in gains if g["system"] == compressor and g["gain"] is not None), None)
        clause += (f": its decoder reads its context ({context['decoder']} - none "
                   f"{fmt(points(context['difference'], scale))} points, "
                   f"{fmt_ci(points(context['ci_low'], scale), points(context['ci_high'], scale))})")
        if gain is not None:
            clause += (f" and its compression gain (system - none) / (full - none) is {gain['gain']:.0%} (paired CI "
                       f"{fmt_ci(points(gain['ci_low'], 100), points(gain['ci_high'], 100))}%)")
    standing = _standing(compressor, paired, metric)
    if not standing:
        ok = False
        clause += "; no cheap baseline or no-context run on its examples to compare it with"
        return clause, ok
    below_all = all(reading(c) == "below" for c in standing)
    if below_all and len(standing) > 1:
        clause += ("; on the same examples it is below every baseline it ran beside: "
                   + ", ".join(f"{c['b']} ({difference_text(c, scale)})" for c in standing))
    else:
        clause += "; on the same examples it is " + _grouped(standing, scale)
    if not all(reading(c) == "above" for c in standing):
        ok = False
    return clause, ok


def _choice_on(metric: str, ratio: float, members: list[dict[str, Any]], *, paired, context_use, across, gains,
               scale: float) -> tuple[list[dict[str, Any]], list[str], list[dict[str, Any]], bool]:
    """(winners, clauses, compressor-vs-compressor comparisons, whether any compressor passed the bar against
    the baselines) at one ratio on one metric."""
    clauses, passing = [], []
    for member in sorted(members, key=lambda m: m["system"]):
        clause, ok = compressor_clause(member["system"], member["method"], paired=paired, context_use=context_use,
                                       gains=gains, metric=metric, scale=scale)
        if member.get("share_empty"):
            clause += f"; {member['share_empty']:.0%} of its outputs are empty"
        clauses.append(clause)
        if ok:
            passing.append(member)
    versus = [c for c in across if c["ratio_target"] == ratio and c["metric"] == metric and c["mean"] is not None]
    winners = []
    for member in passing:
        others = [m["system"] for m in members if m["system"] != member["system"]]
        if all(any((c["a"] == member["system"] and c["b"] == o and reading(c) == "above")
                   or (c["b"] == member["system"] and c["a"] == o and reading(c) == "below")
                   for c in versus) for o in others):
            winners.append(member)
    return winners, clauses, versus, bool(passing)


def _standing_on(system: str, metric: str, paired, versus, scale: float) -> str:
    """Where ``system`` stands on one metric: against no context, each cheap baseline, each other compressor."""
    own = _standing(system, paired, metric)
    flipped = [{**c, "a": c["b"], "b": c["a"], "mean": -c["mean"], "ci_low": -c["ci_high"], "ci_high": -c["ci_low"]}
               if c["b"] == system else c for c in versus if system in (c["a"], c["b"])]
    return _grouped(own + flipped, scale) or "no paired comparison"


def method_choice(rows: Sequence[dict[str, Any]], *, metric: str, scale: float,
                  paired: Sequence[dict[str, Any]] = (), context_use: Sequence[dict[str, Any]] = (),
                  across: Sequence[dict[str, Any]] = (), gains: Sequence[dict[str, Any]] = ()
                  ) -> list[dict[str, Any]]:
    """One guideline per target ratio with compressors (``rows``: the systems table). A choice needs the
    paired comparisons to agree on every quality metric the report shows for the task (the paired table's
    metrics); where one favours another system the sentence says which, and that no single choice follows."""
    name = METRIC_NAMES.get(metric, metric)
    shown = [metric] + sorted({c["metric"] for c in list(paired) + list(across)} - {metric})
    by_ratio: dict[float, list[dict[str, Any]]] = {}
    for row in rows:
        if row["kind"] == "compressor" and row.get("ratio_target") is not None and row["mean"] is not None:
            by_ratio.setdefault(row["ratio_target"], []).append(row)
    out = []
    for ratio, members in sorted(by_ratio.items()):
        common = dict(paired=paired, context_use=context_use, across=across, gains=gains, scale=scale)
        winners, clauses, versus, passing = _choice_on(metric, ratio, members, **common)
        versus_text = "; ".join(f"{c['a']} - {c['b']}: {reading(c)} ({difference_text(c, scale)})" for c in versus)
        on_others = {m: _choice_on(m, ratio, members, **common) for m in shown[1:]}
        best = winners[0] if winners else None
        disagree = [m for m, (w, _, _, _) in on_others.items()
                    if best is not None and best["system"] not in {x["system"] for x in w}]
        if best is not None and not disagree:
            agreed = f" The same holds on {', '.join(METRIC_NAMES.get(m, m) for m in shown[1:])}." if shown[1:] else ""
            text = (f"At {fmt(ratio)}x use {best['method']} ({best['system']}): on the same examples it is above no "
                    f"context, every cheap baseline" + (" and every other compressor at this ratio" if len(members) > 1
                                                       else "") + f" on {name}.{agreed} " + " ".join(
                        c + "." for c in clauses))
        elif best is not None:
            favoured = "; ".join(f"on {METRIC_NAMES.get(m, m)} {best['system']} is "
                                 f"{_standing_on(best['system'], m, paired, on_others[m][2], scale)}"
                                 for m in disagree)
            text = (f"At {fmt(ratio)}x no single method choice follows: on {name} {best['method']} ({best['system']}) "
                    f"is above no context and every cheap baseline on the same examples, but the metrics disagree: "
                    f"{favoured}. " + " ".join(c + "." for c in clauses))
            winners = []
        else:
            reason = ("no compressor passes: its decoder must read its context and it must be above no context and "
                      "every cheap baseline on the same examples")
            if passing:
                reason = "no compressor is established above the others at this ratio on their shared examples"
            if any(w for w, _, _, _ in on_others.values()):
                reason += " (" + "; ".join(f"on {METRIC_NAMES.get(m, m)} {w[0]['system']} would pass"
                                           for m, (w, _, _, _) in on_others.items() if w) + ")"
            text = f"At {fmt(ratio)}x no method choice is supported on {name}: {reason}. " + " ".join(c + "." for c in clauses)
        if versus_text:
            text += f" Compressors against each other on shared examples: {versus_text}."
        out.append({"topic": "method choice", "scope": f"{fmt(ratio)}x", "supported": bool(winners), "text": text,
                    "basis": {"ratio": ratio, "systems": [m["system"] for m in members], "metrics": shown,
                              "disagree": disagree,
                              "paired": [c for c in paired if c["a"] in {m["system"] for m in members}],
                              "across": versus}})
    return out
