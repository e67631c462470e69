"""`datacomp store info|export|runs`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from datacomp.cli.common import (DEFAULT_DB, DbOption, JsonOption, app, console, existing_store, print_json,
                                 print_listing, print_table)

store_app = typer.Typer(help="Inspect and export the DuckDB store.", no_args_is_help=True)
app.add_typer(store_app, name="store")


@store_app.command("info")
def info(db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """Schema version and row counts of every table."""
    with existing_store(db) as store:
        result = {"path": str(store.path), "schema_version": store.schema_version,
                  "tables": store.table_counts()}
    if as_json:
        print_json(result)
        return
    console.print(f"store [bold]{result['path']}[/] (schema version {result['schema_version']})")
    print_table([{"table": t, "rows": n} for t, n in result["tables"].items()])


@store_app.command("export")
def export(
    table: Annotated[str, typer.Argument(metavar="TABLE", help="Table name, e.g. documents or scores.")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help="File to write: .parquet, .jsonl or "
                                      ".jsonl.gz.")],
    format: Annotated[Optional[str], typer.Option("--format", metavar="parquet|jsonl", help="[default: from the "
                                                  "extension of --out]")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing file.")] = False,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Write one table to Parquet or JSON lines (the format follows the extension of --out)."""
    from datacomp.outputs import format_of

    with existing_store(db) as store:
        n = store.export_table(table, out, format=format, overwrite=overwrite)
    if as_json:
        print_json({"table": table, "out": str(out), "format": format or format_of(out), "n_rows": n})
        return
    console.print(f"wrote {n} rows of {table} to {out} ({format or format_of(out)})", highlight=False, markup=False)


@store_app.command("runs")
def runs(
    limit: Annotated[int, typer.Option("--limit", help="How many runs to list, newest first.")] = 20,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """The most recent runs with their status and counts."""
    with existing_store(db) as store:
        rows = store.rows("runs/list", {"limit": limit})
    print_listing(rows, as_json, "no runs yet: ingest, score, train, evaluate, report and run each record one")


@store_app.command("results")
def results(
    task: Annotated[Optional[str], typer.Option("--task", metavar="TASK", help="Only this task.")] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Every evaluated system side by side: F1 / EM / BLEU (x100), target NLL, NLL reduction, training time."""
    from datacomp.api import results as evaluated_systems

    with existing_store(db) as store:
        rows = evaluated_systems(store, task)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(f"no evaluations{f' of task {task}' if task else ''} yet: run datacomp evaluate --compressor "
                      "ID --slice SLICE", highlight=False, markup=False)
        return

    def cell(value, pattern, scale=1.0):
        return "-" if value is None else pattern.format(value * scale)

    print_table([{"task": r["task"], "system": r["system"], "method": r["method"],
                  "ratio": cell(r["ratio_target"], "{:g}") + " / " + cell(r["ratio_actual"], "{:.1f}"),
                  "n": r["n"], "F1": cell(r["f1"], "{:.1f}", 100), "EM": cell(r["em"], "{:.1f}", 100),
                  "BLEU": cell(r["bleu"], "{:.1f}", 100), "target NLL": cell(r["target_nll"], "{:.3f}"),
                  "NLL reduction %": cell(r["nll_reduction"], "{:.1f}", 100),
                  "train": "-" if r["train_seconds"] is None else f"{r['train_seconds']:.0f} s, {r['train_steps']} steps"}
                 for r in rows], title="evaluations (F1/EM/BLEU x100; ratio target / actual)")
