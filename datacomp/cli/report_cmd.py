"""`datacomp report`: statistics, figures and guidelines from the store, as Markdown, HTML and JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from datacomp.cli.common import DEFAULT_DB, DbOption, JsonOption, app, console, existing_store, print_json


@app.command("report")
def report(
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Folder for report.md, report.html, "
                                      "report.json.")] = Path("report"),
    quality_metric: Annotated[str, typer.Option("--quality-metric", metavar="f1|bleu|em|nll_reduction",
                                                help="Quality per example (nll_reduction: 1 - target NLL / the "
                                                "no-context NLL).")] = "f1",
    task: Annotated[Optional[str], typer.Option(
        "--task", metavar="TASK", help="Evaluation task to analyse [default: the one with most compressor "
        "evaluations].")] = None,
    target_f1: Annotated[Optional[float], typer.Option(
        "--target-f1", help="Quality target for the entropy-threshold guideline (0-1, or points 0-100).")] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="Significance level for adjusted p-values.")] = 0.05,
    correction: Annotated[str, typer.Option("--correction", metavar="holm|bh", help="holm (family-wise) or bh "
                                            "(false discovery rate).")] = "holm",
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap resamples per interval.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Write the report: data audit, findings with statistics, guidelines, methods and provenance."""
    from datacomp.analysis.report import ReportConfig
    from datacomp.api import report as write_report

    config = ReportConfig(quality_metric=quality_metric, task=task, target_f1=target_f1, alpha=alpha,
                          correction=correction, n_boot=n_boot, seed=seed)
    with existing_store(db, read_only=False) as store:  # the report records its run
        paths = write_report(store, config, out=out)
    if as_json:
        print_json({name: str(path) for name, path in paths.items()})
        return
    for name, path in paths.items():
        console.print(f"wrote {name}: {path}")
