"""The report's result blocks (evaluations and findings), built only from report.json's dict with the
number formats of formatting.py; render.py turns them into Markdown and HTML."""

from __future__ import annotations

import math
from typing import Any

from datacomp.analysis.context_use import ignored_context
from datacomp.analysis.formatting import fmt, fmt_ci, fmt_p, fmt_pct, points


def table(headers: list[str], rows: list[list[Any]]) -> tuple:
    return ("table", headers, [[fmt(c) if not isinstance(c, str) else c for c in row] for row in rows])


def missing(section: dict[str, Any], blocks: list[tuple]) -> bool:
    if section.get("missing"):
        blocks.append(("missing", section["missing"]))
        return True
    return False


def _ci(low: float | None, high: float | None, scale: float = 1.0) -> str:
    return fmt_ci(points(low, scale), points(high, scale))


def p_text(c: dict[str, Any], key: str = "p_bootstrap") -> str:
    """A bootstrap p, or its bound where 0 lay beyond every resample ("<=0.002")."""
    return f"<={fmt_p(c[key])}" if c.get(f"{key}_bound") else fmt_p(c[key])


def comparison_reading(c: dict[str, Any]) -> str:
    if c.get("identical"):
        return "identical on every example"
    if c["excludes_zero"]:
        text = f"{c['a'] if c['mean'] > 0 else c['b']} higher"
    else:
        text = "not significant (CI includes 0): no difference shown"
    if c.get("wilcoxon_disagrees"):
        text += "; Wilcoxon disagrees"
    return text


def context_verdict(u: dict[str, Any]) -> str:
    """'reads its context', qualified where no context is a degenerate floor (full - none is then full's level)."""
    if not u["reads_context"]:
        return "does not use its context: not testable"
    if u.get("degenerate_floor"):
        return f"reads its context, against a degenerate floor: {u['degenerate_floor']}"
    return "reads its context"


def evaluation_blocks(data: dict[str, Any], blocks: list[tuple]) -> None:
    evaluations, scale = data["evaluations"], data["scale"]
    blocks.append(("h", 2, f"2. Compression quality{': ' + evaluations['task'] if evaluations.get('task') else ''}"))
    if missing(evaluations, blocks):
        return
    metric = evaluations["metric"]
    if evaluations.get("coverage"):
        blocks.append(("p", "Documents evaluated per domain, beside those the evaluated slice holds."))
        blocks.append(table(["evaluation", "domain", "evaluated", "in the slice"],
                            [[c["eval_id"], c["domain"], c["n_evaluated"], c["n_available"]]
                             for c in evaluations["coverage"]]))
        for warning in evaluations.get("coverage_warnings", []):
            blocks.append(("p", f"**Warning:** {warning}: findings about domains do not cover it."))
    blocks.append(("p", f"Quality is {metric} in points (0-100), one row per system over distinct examples (a "
                        "baseline shared by several evaluations counts once). Each interval describes one system "
                        "(BCa); systems are compared only by the paired differences below. A ratio counts the "
                        "system's own budget unit: tokens kept (text baselines, prompt compressors), KV slots (KV "
                        "presses, SAC) or soft tokens (the autoencoder, COMI)."))
    blocks.append(table(["system", "method", "target ratio", "actual ratio", "budget unit", f"{metric} (points)",
                         "95% CI", "n", "share of zeros", "empty outputs", "distinct outputs", "compress ms (median)"],
                        [[m["system"], m["method"], m["ratio_target"], m["ratio_actual"], m.get("budget_unit", "-"),
                          points(m["mean"], scale), _ci(m["ci_low"], m["ci_high"], scale), m["n"],
                          fmt_pct(m["share_zero"]), fmt_pct(m.get("share_empty")), m.get("n_distinct_outputs"),
                          m["compress_ms"]]
                         for m in evaluations["methods"]]))
    identical = [m["system"] for m in evaluations["methods"] if m.get("identical_outputs")]
    if identical:
        blocks.append(("p", f"**Degenerate:** {', '.join(identical)}: one output for every example (the same "
                            "string each time), so its scores are a floor, not a reading of the examples."))
    if evaluations.get("context_use"):
        blocks.append(("p", "Does the decoder read its context? Full minus no context on the same examples "
                            "(paired BCa CI and its p; Wilcoxon p beside it); where the CI does not lie above 0 "
                            "the decoder does not use its context here, and compression findings are not testable "
                            "on it."))
        blocks.append(table(["evaluation", "decoder", "metric", "full - none (points)", "CI", "p", "Wilcoxon p", "n",
                             "verdict"],
                            [[u["eval_id"], u["decoder"], u["metric"], points(u["difference"], scale),
                              _ci(u["ci_low"], u["ci_high"], scale), p_text(u), fmt_p(u["p_wilcoxon"]),
                              u["n"], context_verdict(u)] for u in evaluations["context_use"]]))
    comparisons = [c for c in evaluations.get("paired", []) + evaluations.get("across", []) if c["mean"] is not None]
    if comparisons:
        blocks.append(("p", "Paired differences A - B on the same examples (points; BCa bootstrap CI resampling "
                            "documents and its p; Wilcoxon signed-rank p)."))
        blocks.append(table(["A", "B", "metric", "A - B", "CI", "p", "Wilcoxon p", "n", "reading"],
                            [[c["a"], c["b"], c["metric"], points(c["mean"], scale), _ci(c["ci_low"], c["ci_high"], scale),
                              p_text(c), fmt_p(c["p_wilcoxon"]), c["n"], comparison_reading(c)]
                             for c in comparisons]))
    if evaluations.get("gains"):
        blocks.append(("p", "Compression gain (system - none) / (full - none) on the same examples, with a paired "
                            "BCa CI; reported only where full - none is above 0 by its paired CI."))
        blocks.append(table(["evaluation", "system", "gain", "CI", "n", "full - none (points)", "note"],
                            [[g["eval_id"], g["system"], fmt_pct(g["gain"]), _ci(g["ci_low"], g["ci_high"], 100) + "%"
                              if g["gain"] is not None else "–", g["n"],
                              f"{fmt(points(g['full_minus_none']['mean'], scale))} "
                              f"{_ci(g['full_minus_none']['ci_low'], g['full_minus_none']['ci_high'], scale)}",
                              g["reason"] or "–"] for g in evaluations["gains"]]))
    blocks.extend(("figure", name) for name in evaluations.get("figures", []))


def finding_row(f: dict[str, Any]) -> list[str]:
    """One line of the findings table (also used by tests to check the JSON against the Markdown)."""
    return [f["id"], f["family"], f["question"], f["role"], f["method"], f["direction"], fmt(f["estimate"]),
            fmt_ci(f["ci_low"], f["ci_high"]), fmt_p(f["p_value"]), fmt_p(f["p_adjusted"]), fmt(f["n"]),
            f["verdict"]]


def _ols_table(ols: dict[str, Any], scale: float, blocks: list[tuple], title: str) -> None:
    if not ols["terms"]:
        blocks.append(("missing", f"{title}: not fitted: {ols['note']}"))
        return
    errors = (f"standard errors {ols['note']}" if ols.get("note")
              else f"{ols['cov_type']} standard errors, t with {fmt(ols['df'])} df")
    blocks.append(("p", f"{title}: `{ols['formula']}`, {errors}: "
                        f"R² = {fmt(ols['r2'])}, n = {ols['n']}" + (f"; left out: {', '.join(ols['dropped'])}"
                                                                    if ols["dropped"] else "") + "."))
    undefined = [t["term"] for t in ols["terms"] if not _finite(t.get("se"))]
    blocks.append(table(["term", "coefficient", "points per unit", "95% CI (points)", "p"],
                        [[t["term"], t["coef"], t["coef"] * scale, "not computed" if t["term"] in undefined else
                          _ci(t["ci_low"], t["ci_high"], scale), "not computed" if t["term"] in undefined else
                          fmt_p(t["p_value"])] for t in ols["terms"]]))
    if undefined:   # an infinite standard error gives p = 1 and an unbounded CI: not a result
        blocks.append(("p", f"CI and p of {', '.join(undefined)} not computed: {_undefined_se_reason(ols)}."))


def _finite(value: Any) -> bool:
    return value is not None and math.isfinite(value)


def _undefined_se_reason(ols: dict[str, Any]) -> str:
    """Why a fit's standard errors are not finite: the fit's own note where it gives one."""
    if ols.get("note"):
        return ols["note"].removeprefix("not computed: ")   # the sentence already says "not computed"
    if ols.get("cov_type") == "HC3":
        return ("the HC3 standard error divides by 1 - leverage, and a row has leverage 1 (a covariate or a "
                "domain that sets one row apart), so it is infinite")
    return "the standard error is not finite"


OUTCOME_ORDER = {"loss": 0, "full": 1, "quality": 2}


def _pooled_vs_within(analysis: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for f in analysis["findings"]:
        if f["role"] in ("primary", "stratum", "beside") and f["kind"] in ("correlation", "partial", "stratum") \
                and f["x"] in ("enc_entropy", "dec_entropy"):
            scope = {"correlation": "pooled", "partial": "within domains (partial)"}.get(f["kind"],
                                                                                        f"within {f.get('domain')}")
            order = {"correlation": 0, "partial": 1}.get(f["kind"], 2)
            p = f"{fmt_p(f['p_adjusted'])} (adjusted)" if f["role"] == "primary" else f"{fmt_p(f['p_value'])} (unadjusted)"
            outcome = f.get("outcome", "quality")
            rows.append(((f["x"], OUTCOME_ORDER.get(outcome, 3), order),
                         [f["x"], f["y"], scope, f["method"], f["estimate"], fmt_ci(f["ci_low"], f["ci_high"]), p,
                          f["n"]]))
    return [row for _, row in sorted(rows, key=lambda r: r[0])]


def _loss_blocks(analysis: dict[str, Any], metric: str, scale: float, blocks: list[tuple]) -> None:
    loss = analysis.get("loss")
    if analysis.get("outcome_warning"):
        blocks.append(("p", f"**Warning:** {analysis['outcome_warning']}."))
    if not loss:
        return
    overall = loss["overall"]
    blocks.append(("p", f"Compression loss, the primary outcome: full-context {metric} minus the compressor's on the "
                        f"same example, {fmt(points(overall['mean'], scale))} points on average (95% BCa CI "
                        f"{_ci(overall['ci_low'], overall['ci_high'], scale)}, n = {overall['n']}); it retains "
                        f"{fmt_pct(overall['retained'])} of full context's {fmt(points(overall['full'], scale))}. "
                        "Raw and full-context quality are tested beside it (role 'beside', outside the family)."))
    blocks.append(table(["domain", "loss (points)", "95% CI (points)", "n", f"full-context {metric} (points)",
                         "retained"],
                        [[d["domain"], points(d["mean"], scale), _ci(d["ci_low"], d["ci_high"], scale), d["n"],
                          points(d["full"], scale), fmt_pct(d["retained"])] for d in loss["by_domain"]]))


def finding_blocks(data: dict[str, Any], blocks: list[tuple]) -> None:
    findings, scale = data["findings"], data["scale"]
    blocks.append(("h", 2, "3. Findings"))
    if missing(findings, blocks) and not findings["items"]:
        return
    for warning in findings.get("warnings", []):
        blocks.append(("p", f"**Warning:** {warning}."))
    blocks.append(("p", f"One row per test. Primary tests (one per question) are adjusted ({findings['correction']}) "
                        f"within their family (one compressor, or one gap sweep); significant means adjusted p < "
                        f"{fmt(findings['alpha'])}. Sensitivity, stratum and effect rows are outside the families "
                        f"(unadjusted p). OLS slopes are in {findings['metric']} units (0-1) per unit of the "
                        "predictor; their effect in points is in the regression tables."))
    blocks.append(("table", ["id", "family", "question", "role", "method", "direction", "statistic", "CI (unadjusted)", "p",
                             "adjusted p", "n", "verdict"], [finding_row(f) for f in findings["items"]]))
    for analysis in findings["compressors"]:
        blocks.append(("h", 3, f"Compressor {analysis['label']}"))
        quality, zeros = analysis["quality"], analysis["zeros"]
        source = analysis["predictors"]
        blocks.append(("p", f"{analysis['n_docs']} evaluated documents; mean {findings['metric']} "
                            f"{fmt(points(quality['mean'], scale))} points (95% BCa CI "
                            f"{_ci(quality['ci_low'], quality['ci_high'], scale)}); {fmt_pct(zeros['share_zero'])} "
                            f"of the documents score exactly 0. Predictors: {source['source']} scores; length: "
                            f"{source['length']}." + (f" Not measured: {', '.join(analysis['missing_predictors'])}."
                                                      if analysis["missing_predictors"] else "")
                            + (f" Covariates left out of every model: {', '.join(analysis['dropped_covariates'])}."
                               if analysis.get("dropped_covariates") else "")))
        _loss_blocks(analysis, findings["metric"], scale, blocks)
        gap = ignored_context(analysis.get("context"), scale)
        if gap is not None:
            blocks.append(("p", f"**Not testable:** the decoder does not use its context here ({gap}): the tests "
                                "below describe the decoder on these documents, not compression."))
        rows = _pooled_vs_within(analysis)
        if rows:
            blocks.append(("p", "Pooled beside within domains: the pooled Spearman, the partial Spearman on domain "
                                "and length (primary on the loss, adjusted in the family; beside on raw and "
                                "full-context quality, unadjusted), and each domain's own Spearman (descriptive)."))
            blocks.append(table(["predictor", "outcome", "scope", "method", "rho", "CI (unadjusted)", "p", "n"], rows))
        for name, ols in analysis["ols"].items():
            _ols_table(ols, scale, blocks, f"One-predictor model ({name})")
        for name, ols in (analysis.get("ols_full") or {}).items():
            _ols_table(ols, scale, blocks, f"With the same example's full-context quality as a covariate ({name}): "
                                           "the compression effect")
        joint = analysis.get("joint")
        if joint:
            _ols_table(joint["ols"], scale, blocks, "Joint model (collinear predictors: read with its VIFs)")
            blocks.append(table(["term", "VIF"], [[k, v] for k, v in joint["vifs"].items()]))
            if joint["warning"]:
                blocks.append(("p", f"**Warning:** {joint['warning']}."))
        if analysis.get("by_domain"):
            blocks.append(table(["domain", f"mean {findings['metric']} (points)", "95% CI (points)", "n",
                                 "share of zeros"],
                                [[d["domain"], points(d["mean"], scale), _ci(d["ci_low"], d["ci_high"], scale), d["n"],
                                  fmt_pct(d["share_zero"])] for d in analysis["by_domain"]]))
        blocks.extend(("figure", name) for name in analysis.get("figures", []))
    for sweep in findings["sweeps"]:
        blocks.append(("h", 3, f"Knowledge-gap sweep: {sweep['label']}"))
        blocks.append(("p", f"Predictors: {sweep['predictors']['source']} scores. The pooled model's errors are "
                            f"clustered by document: {fmt(sweep['n_clusters'])} clusters."))
        if sweep.get("outcome_warning"):
            blocks.append(("p", f"**Warning:** {sweep['outcome_warning']}."))
        blocks.append(table(["compressor", "decoder", "documents", "mean JS gap (nats/token)",
                             f"mean {findings['metric']} (points)", "full context (points)", "loss (points)",
                             "retained"],
                            [[p["compressor_id"], p["decoder_id"], p["n_docs"], p["gap_js"], p["quality"] * scale,
                              points(p.get("full"), scale), points(p.get("loss"), scale), fmt_pct(p.get("retained"))]
                             for p in sweep["pairs"]]))
        primary = "the compression loss (full - system)" if sweep.get("outcome") == "loss" else findings["metric"]
        _ols_table(sweep["ols"], scale, blocks, f"Pooled model of {primary}")
        for outcome, ols in (sweep.get("ols_beside") or {}).items():
            _ols_table(ols, scale, blocks, f"Beside it, the same model of {'full-context ' if outcome == 'full' else 'raw '}"
                                           f"{findings['metric']}")
    if not findings["sweeps"] and findings.get("sweep_missing"):
        blocks.append(("missing", findings["sweep_missing"]))
    if findings["skipped"]:
        blocks.append(("p", "Not analysed:"))
        blocks.append(("ul", findings["skipped"]))
