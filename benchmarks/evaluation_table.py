"""One evaluation's systems with 95% CIs and the compressor's paired differences against every baseline, as
Markdown tables (what a closing note or a paper table needs; the report prints the same paired rows).

    python benchmarks/evaluation_table.py out/quickstart/datacomp.duckdb [EVAL_ID]

Means: F1, BLEU and NLL reduction x100 with paired-bootstrap CIs over documents (evaluation/comparisons.py,
analysis/paired.py); EVAL_ID defaults to the first evaluation with a compressor. n per domain first.
"""

from __future__ import annotations

import sys

import duckdb
import numpy as np

from datacomp.analysis.paired import paired_difference
from datacomp.evaluation.comparisons import paired_comparisons, with_nll_reduction

COLUMNS = ["system", "example_id", "doc_id", "f1", "em", "bleu", "target_nll", "compressor_id", "ratio_actual",
           "task"]
METRICS = ("f1", "bleu", "nll_reduction")   # for a QA evaluation, pass em instead of bleu by editing this line


def cell(result: dict) -> str:
    return f"{100 * result['mean']:.1f} [{100 * result['ci_low']:.1f}, {100 * result['ci_high']:.1f}]"


def main(db: str, eval_id: str | None = None) -> None:
    con = duckdb.connect(db, read_only=True)
    if eval_id is None:
        eval_id = con.execute("SELECT min(eval_id) FROM evaluations WHERE compressor_id IS NOT NULL").fetchone()[0]
    rows = [dict(zip(COLUMNS, r)) for r in con.execute(
        f"SELECT {', '.join(COLUMNS)} FROM evaluations WHERE eval_id = ?", [eval_id]).fetchall()]
    compressor = rows[0]["compressor_id"]
    systems = [compressor] + sorted({r["system"] for r in rows} - {compressor})
    domains = con.execute("SELECT d.domain, count(DISTINCT e.doc_id) FROM evaluations e JOIN documents d "
                          "USING (doc_id) WHERE e.eval_id = ? AND e.system = 'full' GROUP BY 1 ORDER BY 1",
                          [eval_id]).fetchall()
    print(f"{eval_id}: documents per domain {dict(domains)}\n")
    scored = with_nll_reduction(rows)
    print("| system | ratio | F1 | BLEU | NLL reduction | target NLL |\n|---|---|---|---|---|---|")
    for system in systems:
        mine = [r for r in scored if r["system"] == system]
        cells = []
        for metric in METRICS:
            present = [r for r in mine if r[metric] is not None]
            cells.append(cell(paired_difference([r[metric] for r in present], [0.0] * len(present),
                                                clusters=[r["doc_id"] for r in present])))
        ratios = [r["ratio_actual"] for r in mine if r["ratio_actual"]]
        ratio = f"{np.mean(ratios):.2f}" if ratios else "-"
        print(f"| {system} | {ratio} | {' | '.join(cells)} | {np.mean([r['target_nll'] for r in mine]):.3f} |")
    print("\n| A - B | F1 | BLEU | NLL reduction |\n|---|---|---|---|")
    by_pair: dict = {}
    for c in paired_comparisons(rows, systems, compressor, rows[0]["task"]):
        by_pair.setdefault((c["a"], c["b"]), {})[c["metric"]] = c
    for (a, b), metrics in by_pair.items():
        print(f"| {a} - {b} | " + " | ".join(
            f"{100 * metrics[m]['mean']:+.1f} [{100 * metrics[m]['ci_low']:+.1f}, {100 * metrics[m]['ci_high']:+.1f}] "
            f"p={metrics[m]['p_wilcoxon']:.2g}" for m in METRICS) + " |")


if __name__ == "__main__":
    main(*sys.argv[1:])
