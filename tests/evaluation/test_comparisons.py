"""Paired comparisons of one evaluation: which pairs, nll_reduction against the right no-context row,
and the difference computed on the shared examples only."""

import pytest

from datacomp.evaluation.comparisons import comparison_pairs, paired_comparisons, system_gains, with_nll_reduction


def row(system, example, f1, nll, doc=None):
    return {"system": system, "example_id": example, "doc_id": doc or example, "f1": f1, "em": 0.0, "bleu": 0.0,
            "target_nll": nll}


def test_pairs_cover_the_compressor_against_every_baseline_and_full_against_none():
    systems = ["c", "full", "none", "truncate", "full@tuned", "none@tuned"]
    assert comparison_pairs(systems, "c") == [("c", s) for s in systems[1:]] + [("full", "none"),
                                                                                 ("full@tuned", "none@tuned")]
    assert comparison_pairs(["full", "truncate"], None) == []


def test_nll_reduction_is_against_the_plain_no_context_row_for_every_system():
    rows = with_nll_reduction([row("none", "e", 0, 4.0), row("full", "e", 0, 1.0), row("none@tuned", "e", 0, 2.0),
                               row("full@tuned", "e", 0, 1.0), row("full", "x", 0, 1.0)])
    got = {(r["system"], r["example_id"]): r["nll_reduction"] for r in rows}
    assert got[("full", "e")] == pytest.approx(0.75) and got[("none", "e")] == 0.0
    assert got[("full@tuned", "e")] == pytest.approx(0.75)            # one denominator: the plain none
    assert got[("full", "x")] is None                                   # no none row: undefined, not 0


def test_differences_are_paired_on_shared_examples():
    rows = [row("c", f"e{i}", 0.5 + 0.1 * i, 2.0) for i in range(5)] + \
        [row("full", f"e{i}", 0.4 + 0.1 * i, 1.0) for i in range(6)] + \
        [row("none", f"e{i}", 0.1, 4.0) for i in range(6)]
    out = {(c["a"], c["b"], c["metric"]): c for c in paired_comparisons(rows, ["c", "full", "none"], "c", "qa")}
    c_full = out[("c", "full", "f1")]
    assert c_full["n"] == 5 and c_full["mean"] == pytest.approx(0.1)      # e5 has no compressor row
    assert c_full["ci_low"] == pytest.approx(0.1) and c_full["excludes_zero"]
    assert out[("c", "full", "nll_reduction")]["mean"] == pytest.approx(0.5 - 0.75)
    assert out[("full", "none", "nll_reduction")]["n"] == 6


def scored(system, values, metric="bleu"):
    """One row per example e0..: ``values[i]`` is example i's ``metric`` (the other metrics 0)."""
    return [{**row(system, f"e{i}", 0.0, None), metric: v} for i, v in enumerate(values)]


def test_no_gain_where_full_minus_none_is_not_significant_on_small_data():
    """The issue's case: four examples, full's BLEU 1e-7 above none's on one of them. The ratio of means
    would print (0.185 - 0) / 2.5e-8 = +7.4 million; the gain is withheld, with the reason."""
    rows = scored("c", [0.2, 0.3, 0.1, 0.14]) + scored("full", [0.0, 0.0, 0.0, 1e-7]) + scored("none", [0.0] * 4)
    naive = (sum([0.2, 0.3, 0.1, 0.14]) / 4) / (1e-7 / 4)
    assert naive > 1e6                                                   # what a ratio of means would print
    gains = system_gains(rows, "c", ("bleu", "corpus_bleu"))
    assert gains["bleu"]["gain"] is None and gains["bleu"]["ci_low"] is None
    assert "full - none is not above 0 by a paired CI" in gains["bleu"]["reason"]
    assert gains["corpus_bleu"]["gain"] is None and "no paired CI" in gains["corpus_bleu"]["reason"]
    assert system_gains(rows, "c", ("bleu",), suffix="@tuned")["bleu"]["reason"] == \
        "needs the full@tuned and none@tuned baselines"


def test_gain_of_a_lower_is_better_metric_is_the_share_of_nats_recovered():
    nll = {"c": [3.0, 2.6, 2.9, 3.1, 2.7, 2.8], "full": [2.0, 1.8, 2.1, 2.2, 1.9, 2.0],
           "none": [4.0, 3.9, 4.2, 4.1, 3.8, 4.0]}
    rows = [r for system, values in nll.items() for r in scored(system, values, "target_nll")]
    gain = system_gains(rows, "c", ("target_nll",))["target_nll"]
    recovered = sum(z - c for c, z in zip(nll["c"], nll["none"])) / sum(z - f for f, z in zip(nll["full"], nll["none"]))
    assert gain["reason"] is None and gain["gain"] == pytest.approx(recovered)
    assert gain["ci_low"] < recovered < gain["ci_high"]


def test_the_report_and_the_evaluate_summary_give_the_same_gains():
    """One implementation: the report's evaluation section (analysis) and the summary (system_gains) agree
    to the digit on the same rows, CI included."""
    from datacomp.analysis.evaluation_section import gains as report_gains

    f1 = {"c": [0.5, 0.4, 0.6, 0.3, 0.55], "truncate": [0.2, 0.3, 0.25, 0.1, 0.2],
          "full": [0.9, 0.8, 0.85, 0.7, 0.95], "none": [0.1, 0.05, 0.0, 0.1, 0.05]}
    rows = [{**r, "eval_id": "ev", "compressor_id": "c", "doc_id": f"d{i % 3}"}
            for system, values in f1.items() for i, r in enumerate(scored(system, values, "f1"))]
    summary = {s: system_gains(rows, s, ("f1",), n_boot=500)["f1"] for s in ("c", "truncate")}
    report = {g["system"]: g for g in report_gains(rows, "f1", confidence=0.95, n_boot=500, seed=0)}
    for system in ("c", "truncate"):
        assert summary[system]["gain"] is not None
        for key in ("gain", "ci_low", "ci_high"):
            assert summary[system][key] == report[system][key]
