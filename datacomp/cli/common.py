"""What every command shares: the app, the --db and --json options, output helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

app = typer.Typer(
    name="datacomp",
    help="Data-centric analysis and curation of text corpora for LLM context compression.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},   # -h on every command and sub-command
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"datacomp {version('datacomp')}")
        except PackageNotFoundError:  # a checkout that was never installed
            typer.echo("datacomp (not installed)")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """Data-centric analysis and curation of text corpora for LLM context compression."""
console = Console()
console_err = Console(stderr=True, soft_wrap=True)  # an error stays one line, however long

DbOption = Annotated[
    Path,
    typer.Option("--db", envvar="DATACOMP_DB", help="DuckDB store file ($DATACOMP_DB).", show_default=True),
]
DEFAULT_DB = Path("datacomp.duckdb")
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]


def print_json(value: Any) -> None:
    """JSON on stdout, nothing else: safe to pipe into jq."""
    typer.echo(json.dumps(value, indent=2, default=str))


def print_listing(rows: list[dict[str, Any]], as_json: bool, empty: str, **table: Any) -> None:
    """A listing: JSON (``[]`` when empty), a table, or, when there is nothing to list, ``empty``: a line
    saying what to run to get something (never a blank table)."""
    if as_json:
        print_json(rows)
    elif rows:
        print_table(rows, **table)
    else:
        console.print(empty, highlight=False, markup=False)


def print_table(rows: list[dict[str, Any]], title: str | None = None, columns: list[str] | None = None) -> None:
    """Rows of dicts as a rich table (columns default to the first row's keys). Cells and title are plain
    text (``list[corpus]`` stays as written); a cell that wants a style is a rich ``Text``."""
    table = Table(title=Text(title) if title else None)
    columns = columns or (list(rows[0]) if rows else [])
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*[_cell(row.get(column)) for column in columns])
    console.print(table)


def _cell(value: Any) -> str | Text:
    if isinstance(value, Text):
        return value
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return Text(json.dumps(value, default=str))
    return Text(str(value))


def existing_store(db: Path | None, read_only: bool = True):
    """The store at ``db`` for a command that reads it: a missing file is an error (a mistyped --db must
    not create an empty store and report on it), and pure reads open it read-only."""
    from datacomp.api import open_store

    store = open_store(db, read_only=read_only, create=False)
    if store.snapshot_dir is not None:
        import datetime

        now = datetime.datetime.now().strftime("%H:%M:%S")
        typer.echo(f"note: {store.path} is held by a running command (a datacomp run?); showing a copy taken at "
                   f"{now}, without what it writes later", err=True)
    return store


# --engine and its Ray options, shared by `score` and `evaluate` (datacomp/ray_jobs.py)
ENGINES = ("in-process", "ray")
EngineOption = Annotated[str, typer.Option("--engine", metavar="in-process|ray", help="in-process, or ray: workers "
                                           "that each hold the models once (pip install 'datacomp[ray]').")]
AddressOption = Annotated[Optional[str], typer.Option("--address", metavar="ADDRESS", help="With --engine ray: a "
                                                      "running Ray cluster (auto, HOST:6379, ray://HOST:10001) [default: a local "
                                                      "instance for this run].")]
WorkersOption = Annotated[int, typer.Option("--workers", help="With --engine ray: workers (Ray actors), each "
                                            "holding the models once.")]
GpusPerWorkerOption = Annotated[float, typer.Option("--gpus-per-worker", help="With --engine ray: GPUs per "
                                                    "worker (0 = CPU).")]


def ray_options(engine: str, address: str | None, workers: int, gpus_per_worker: float):
    """RayOptions for --engine ray; None for in-process, which takes no Ray option (an error, not ignored)."""
    from datacomp.errors import DatacompError

    if engine not in ENGINES:
        raise DatacompError(f"--engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "ray":
        from datacomp.ray_jobs import RayOptions

        return RayOptions(address=address, workers=workers, gpus_per_worker=gpus_per_worker)
    given = [flag for flag, value, default in (("--address", address, None), ("--workers", workers, 2),
                                               ("--gpus-per-worker", gpus_per_worker, 0.0)) if value != default]
    if given:
        raise DatacompError(f"{', '.join(given)}: only with --engine ray")
    return None
