"""`datacomp evaluate`'s printed summary on small data: gains only where full - none is significant, the
report's kind of p (the BCa bootstrap p that agrees with the interval) and its reading words."""

from __future__ import annotations

import re

import pytest

from datacomp.analysis.paired import paired_difference
from datacomp.cli.compress_cmd import display_rows, gain_rows, paired_rows, print_summary
from datacomp.evaluation.runner import EvalSetup, summarize

# the four examples: full's BLEU 1e-7 above none's on one of them (a ratio of means prints
# +462471-like gains), and full's F1 above none's on all four (Wilcoxon p 0.125 at n = 4, the CI above 0)
SCORES = {
    "c": {"f1": [0.30, 0.35, 0.50, 0.20], "bleu": [0.2, 0.3, 0.1, 0.14]},
    "full": {"f1": [0.50, 0.60, 0.70, 0.40], "bleu": [0.0, 0.0, 0.0, 1e-7]},
    "none": {"f1": [0.0, 0.0, 0.10, 0.0], "bleu": [0.0, 0.0, 0.0, 0.0]},
    "truncate": {"f1": [0.5, 0.1, 0.3, 0.3], "bleu": [0.0, 0.0, 0.0, 0.0]},
}


class RowsOnly:
    """The one store read ``summarize`` makes: the evaluation's rows."""

    def __init__(self, rows):
        self._rows = rows

    def rows(self, query, params):
        assert query == "evaluation/rows"
        return self._rows


@pytest.fixture
def summary():
    rows = [{"system": system, "method": system, "example_id": f"e{i}", "doc_id": f"d{i}", "ratio_actual": 4.0,
             "n_context_tokens": 8, "n_slots": 2, "memory_bytes": 64, "f1": scores["f1"][i], "em": 0.0,
             "bleu": scores["bleu"][i], "target_nll": None, "compress_ms": 1.0, "decode_ms": 1.0,
             "prediction": "x", "reference": "y"}
            for system, scores in SCORES.items() for i in range(4)]
    from datacomp.compressors.example import TaskExample

    setup = EvalSetup(decoder=None, tokenizer=None, decoder_id="d", context_tokens=8, ratio=4.0, eval_slice="s",
                      examples=[TaskExample(f"e{i}", "reconstruction", "ctx", "p", "a") for i in range(4)],
                      compressor_id="c")
    return summarize(RowsOnly(rows), "ev", "run", "reconstruction", setup, list(SCORES), written=0)


def test_gains_are_printed_only_where_full_minus_none_is_significant(summary, capsys):
    gains = {(g["system"], g["metric"]): g for g in gain_rows(summary, ("f1", "bleu", "corpus_bleu"))}
    assert set(gains) == {("c", "f1"), ("truncate", "f1")}          # no bleu gain; full / none not listed
    f1 = SCORES["c"]["f1"], SCORES["none"]["f1"], SCORES["full"]["f1"]
    expected = sum(c - z for c, z, _ in zip(*f1)) / sum(f - z for _, z, f in zip(*f1))
    assert gains[("c", "f1")]["gain"] == f"{100 * expected:.0f}%"
    assert all("(" not in cell for row in display_rows(summary, ("f1", "bleu")) for cell in row.values())
    print_summary(summary)
    out = " ".join(capsys.readouterr().out.split())
    assert "gain of bleu not computed: the decoder does not use its context here" in out
    assert not re.search(r"\d{4,}\.\d", out)                         # no +462471.47


def test_the_p_is_the_reports_bootstrap_p_and_the_reading_follows_the_ci(summary):
    rows = {(r["A"], r["B"], r["metric"]): r for r in paired_rows(summary.paired)}
    full_none = rows[("full", "none", "f1")]
    independent = paired_difference(SCORES["full"]["f1"], SCORES["none"]["f1"],
                                    clusters=[f"d{i}" for i in range(4)])
    assert independent["p_wilcoxon"] == pytest.approx(0.125)          # the "p = 0.12 (n = 4)"
    assert independent["excludes_zero"] and independent["p_bootstrap_bound"]
    assert full_none["p"] == "<=0.001" and full_none["reading"] == "full higher; Wilcoxon disagrees"
    c_truncate = rows[("c", "truncate", "f1")]
    assert c_truncate["reading"].startswith("not significant (CI includes 0)")
    low, high = (float(v) for v in c_truncate["95% CI"].strip("[]").split(","))
    assert low < 0 < high and float(c_truncate["p"]) >= 0.05
    for row in rows.values():                                          # words only where the CI excludes 0
        low, high = (float(v) for v in row["95% CI"].strip("[]").split(","))
        assert ("higher" in row["reading"]) == (low > 0 or high < 0), row


def test_skipped_ids_print_the_first_ten_and_how_many_more(summary, capsys):
    import dataclasses

    ids = [f"qa:q{i}" for i in range(25)]
    print_summary(dataclasses.replace(summary, skipped_ids={"answer_past_context_cap": ids}))
    out = " ".join(capsys.readouterr().out.split())
    assert ("skipped (answer_past_context_cap, 25): " + ", ".join(ids[:10]) + " ... and 15 more (--json lists them "
            "all)") in out and "qa:q10" not in out
