"""`datacomp store info|export|runs`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from datacomp.cli.common import DEFAULT_DB, DbOption, JsonOption, app, console, print_json, print_table
from datacomp.store import open_store

store_app = typer.Typer(help="Inspect and export the DuckDB store.", no_args_is_help=True)
app.add_typer(store_app, name="store")


@store_app.command("info")
def info(db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """Schema version and row counts of every table."""
    with open_store(db) as store:
        result = {"path": str(store.path), "schema_version": store.schema_version,
                  "tables": store.table_counts()}
    if as_json:
        print_json(result)
        return
    console.print(f"store [bold]{result['path']}[/] (schema version {result['schema_version']})")
    print_table([{"table": t, "rows": n} for t, n in result["tables"].items()])


@store_app.command("export")
def export(
    table: Annotated[str, typer.Argument(help="Table name, e.g. documents or scores.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Parquet file to write.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write one table to Parquet."""
    with open_store(db) as store:
        n = store.export_table(table, out)
    console.print(f"wrote {n} rows of {table} to {out}")


@store_app.command("runs")
def runs(limit: int = 20, db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """The most recent runs with their status and counts."""
    with open_store(db) as store:
        rows = store.rows("runs/list", {"limit": limit})
    print_json(rows) if as_json else print_table(rows)
