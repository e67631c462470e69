"""Paired comparisons of one evaluation: which pairs, nll_reduction against the right no-context row,
and the difference computed on the shared examples only."""

import pytest

from datacomp.evaluation.comparisons import comparison_pairs, paired_comparisons, with_nll_reduction


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
