"""`datacomp store info|export|runs|results|merge|import`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from datacomp.cli.common import (DEFAULT_DB, DbOption, JsonOption, app, console, creating_store, existing_store,
                                 print_json, print_listing, print_table)
from datacomp.store.merge import DEFAULT_RTOL

store_app = typer.Typer(help="Inspect, export and merge DuckDB stores.", no_args_is_help=True)
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
    """The most recent runs with their status and counts (a 'running' run whose process is gone: 'died')."""
    from datacomp.store.run_liveness import with_shown_status

    with existing_store(db) as store:
        rows = with_shown_status(store.rows("runs/list", {"limit": limit}))
    if not as_json:  # the table: what fits 80 columns on a line; counts and error on lines of their own
        rows = [{"run_id": r["run_id"], "status": r["status"], "started": r["started_at"],
                 "seconds": _run_seconds(r), "counts": r["counts"], "error": r["error"]} for r in rows]
    print_listing(rows, as_json, "no runs yet: ingest, score, train, evaluate, report and run each record one",
                  details=("counts", "error"))


def _run_seconds(run: dict) -> str:
    if run["finished_at"] is None:
        return "-"
    return f"{(run['finished_at'] - run['started_at']).total_seconds():.1f}"


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


RtolOption = Annotated[float, typer.Option("--rtol", help="Relative tolerance within which floating-point "
                                           "values of a row already stored count as the same (near zero: "
                                           "1e-6 absolute).")]
StrictOption = Annotated[bool, typer.Option("--strict", help="Exit with status 2 when any row is refused or any "
                                            "source cannot be read.")]


@store_app.command("merge")
def merge(
    shards: Annotated[list[Path], typer.Argument(metavar="SHARD.duckdb...", help="Store files to merge into --db "
                                                 "(e.g. one per shard).")],
    rtol: RtolOption = DEFAULT_RTOL,
    strict: StrictOption = False,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Merge other stores into --db: rows it lacks are added, rows it holds are skipped, rows that conflict
    with its own (same key, other values) or lack their document or model are refused, and counted."""
    from datacomp.api import merge_stores

    with creating_store(db) as store:
        summary = merge_stores(store, shards, rtol=rtol)
    _report_merge(summary, as_json, strict)


@store_app.command("import")
def import_(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="Folder of Parquet shards (written by --engine ray "
                                          "runs).")],
    rtol: RtolOption = DEFAULT_RTOL,
    strict: StrictOption = False,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Import a folder of Parquet shards into --db, idempotently (the same rules as store merge)."""
    from datacomp.api import import_shards

    with creating_store(db) as store:
        summary = import_shards(store, folder, rtol=rtol)
    _report_merge(summary, as_json, strict)


def _report_merge(summary, as_json: bool, strict: bool) -> None:
    """Counts per table; refusals and unreadable sources as warnings on stderr; --strict makes them fail."""
    import dataclasses

    from rich.markup import escape

    from datacomp.cli.common import console_err
    from datacomp.errors import DatacompError

    if as_json:
        print_json(dataclasses.asdict(summary))
    else:
        print_table([{"table": name, "added": t.added, "skipped": t.skipped, "refused": t.refused}
                     for name, t in summary.tables.items() if t.added or t.skipped or t.refused]
                    or [{"table": "-", "added": 0, "skipped": 0, "refused": 0}],
                    title=f"merged {len(summary.sources)} source(s)")
    for line in summary.refusals():
        console_err.print(f"[yellow]warning:[/] {escape(line)}", highlight=False)
    for source, why in summary.unreadable.items():
        console_err.print(f"[yellow]warning:[/] not read: {escape(source)}: {escape(why)}", highlight=False)
    if strict and (summary.total("refused") or summary.unreadable):
        raise DatacompError(f"--strict: {summary.total('refused')} rows refused and {len(summary.unreadable)} "
                            "source(s) not read (the rest is merged)")
