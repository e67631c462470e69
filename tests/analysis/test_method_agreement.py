"""A method choice needs every metric the report shows to agree; empty and identical outputs are counted
per system, and a degenerate no-context floor qualifies "reads its context"."""

from __future__ import annotations

import numpy as np

from datacomp.analysis.method_choice import method_choice
from datacomp.analysis.render_results import context_verdict

from evaluation_rows import example_rows, sections

N = 60


def _rows():
    """The issue's case: on NLL reduction SAC is above every cheap baseline; on F1 it is below truncate, and
    a quarter of its continuations are empty. No context emits one string for every example."""
    rng = np.random.default_rng(60)
    f1 = {"full": 0.6, "none": 0.05, "truncate": 0.45, "drop": 0.2, "sac": 0.25}
    nll = {"full": 3.0, "none": 5.0, "truncate": 4.6, "drop": 4.7, "sac": 4.0}   # target NLL: lower is better
    scores = {s: list(np.clip(level + rng.normal(0, 0.05, N), 0, 1)) for s, level in f1.items()}
    rows = example_rows("ev", "sac", "sac", scores)
    for row in rows:
        i = int(row["example_id"][2:])
        row["target_nll"] = nll[row["system"]] + 0.1 * float(np.sin(i + len(row["system"])))
        row["prediction"] = {"none": "the"}.get(row["system"], "" if (row["system"] == "sac" and i % 4 == 0)
                                                else f"{row['system']} output {i}")
    none = {r["example_id"]: r["target_nll"] for r in rows if r["system"] == "none"}
    for row in rows:   # as the store's evaluations_scored view computes it
        row["nll_reduction"] = 1 - row["target_nll"] / none[row["example_id"]]
    return rows


def test_a_choice_one_metric_contradicts_is_not_made_and_the_sentence_says_which_metric_favours_which():
    rows = _rows()
    parts = sections(rows, metric="nll_reduction", task="continuation")
    assert {c["metric"] for c in parts["paired"]} == {"nll_reduction", "f1"}   # bleu: not stored here
    [guideline] = method_choice(parts["methods"], metric="nll_reduction", scale=100, paired=parts["paired"],
                                context_use=parts["context_use"], across=parts["across"], gains=parts["gains"])
    assert not guideline["supported"] and guideline["basis"]["disagree"] == ["f1"]
    assert guideline["text"].startswith("At 4x no single method choice follows: on NLL reduction sac (sac) is above "
                                        "no context and every cheap baseline on the same examples, but the metrics "
                                        "disagree: on F1 sac is above drop (")
    assert "; below truncate (-" in guideline["text"]
    assert "; 25% of its outputs are empty" in guideline["text"]
    # on F1 alone nothing is chosen either, and F1 agrees with itself
    [on_f1] = method_choice(parts["methods"], metric="f1", scale=100, paired=parts["paired"],
                            context_use=sections(rows, metric="f1", task="continuation")["context_use"],
                            across=parts["across"], gains=parts["gains"])
    assert not on_f1["supported"] and "(on NLL reduction sac would pass)" in on_f1["text"]


def test_empty_and_identical_outputs_are_counted_per_system_and_qualify_reads_its_context():
    parts = sections(_rows(), metric="f1", task="continuation")
    table = {m["system"]: m for m in parts["methods"]}
    assert table["sac"]["share_empty"] == 15 / 60 and table["sac"]["n_distinct_outputs"] == 46
    assert table["none"]["identical_outputs"] and table["none"]["n_distinct_outputs"] == 1
    assert not table["full"]["identical_outputs"] and table["full"]["share_empty"] == 0
    [use] = parts["context_use"]
    assert use["reads_context"]
    assert context_verdict(use) == ("reads its context, against a degenerate floor: no context emits the same output "
                                    "for all 60 examples (a degenerate floor), so full - none restates full's level")
    [nll] = sections(_rows(), metric="nll_reduction", task="continuation")["context_use"]
    assert context_verdict(nll).endswith("NLL reduction is 0 for no context by definition, so full - none is full's "
                                         "own reduction")


def test_the_systems_table_prints_the_counts_and_flags_the_degenerate_system():
    from datacomp.analysis.render_results import evaluation_blocks

    parts = sections(_rows(), metric="f1", task="continuation")
    blocks = []
    evaluation_blocks({"scale": 100, "evaluations": {"task": "continuation", "metric": "f1", **parts}}, blocks)
    [systems] = [b for b in blocks if b[0] == "table" and "empty outputs" in b[1]]
    row = next(r for r in systems[2] if r[0] == "sac")
    assert row[systems[1].index("empty outputs")] == "25%" and row[systems[1].index("distinct outputs")] == "46"
    assert ("p", "**Degenerate:** none: one output for every example (the same string each time), so its scores "
                 "are a floor, not a reading of the examples.") in blocks
