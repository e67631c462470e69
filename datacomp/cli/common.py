"""What every command shares: the app, the --db and --json options, output helpers."""

from __future__ import annotations

import datetime
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


def print_listing(rows: list[dict[str, Any]], as_json: bool, empty: str, details: tuple[str, ...] = (),
                  **table: Any) -> None:
    """A listing: JSON (``[]`` when empty), a table, or, when there is nothing to list, ``empty``: a line
    saying what to run to get something (never a blank table). ``details``: columns (JSON params, counts)
    printed on their own lines under each row (``print_records``) rather than as table cells."""
    if as_json:
        print_json(rows)
    elif rows and details:
        print_records(rows, details=details, **table)
    elif rows:
        print_table(rows, **table)
    else:
        console.print(empty, highlight=False, markup=False)


def print_records(rows: list[dict[str, Any]], details: tuple[str, ...], title: str | None = None,
                  columns: list[str] | None = None) -> None:
    """Short columns aligned on one line per row, then each non-empty ``details`` column on an indented line
    of its own: a JSON value that would fold into a narrow table cell (one word per line at 80 columns)
    wraps here across the terminal's width, under the row it belongs to."""
    from rich.padding import Padding

    columns = columns or [c for c in rows[0] if c not in details]
    cells = [[_plain(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    if title:
        console.print(Text(title, style="italic"))
    console.print(Text("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip(), style="bold"))
    for row, line in zip(rows, cells):
        console.print(Text("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip()))
        for column in details:
            if row.get(column) not in (None, "", {}, []):
                console.print(Padding(Text(f"{column}: {_plain(row[column])}", overflow="fold"), (0, 0, 0, 4),
                                      expand=False))


def _plain(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"  # to the second: the microseconds are noise in a listing
    cell = _cell(value)
    return cell.plain if isinstance(cell, Text) else cell


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


def creating_store(db: Path | None):
    """The store at ``db`` for a command that may be the first to write it (ingest, corpora prepare, models
    add, store merge / import): created, with its folder, when missing; the command asked for it there."""
    from datacomp.api import open_store

    return open_store(db, parents=True)


def existing_store(db: Path | None, read_only: bool = True):
    """The store at ``db`` for a command that reads it: a missing file is an error (a mistyped --db must
    not create an empty store and report on it), and pure reads open it read-only."""
    from datacomp.api import open_store

    store = open_store(db, read_only=read_only, create=False)
    if store.snapshot_dir is not None:
        now = datetime.datetime.now().strftime("%H:%M:%S")
        typer.echo(f"note: {store.path} is held by a running command (a datacomp run?); showing a copy taken at "
                   f"{now}, without what it writes later", err=True)
    return store


# --threads, shared by `score`, `train` and `evaluate`: set for the whole process before any model loads
ThreadsOption = Annotated[Optional[int], typer.Option(
    "--threads", help="torch CPU threads (on a busy machine 1 can be several times faster) [default: torch's].")]


def set_threads(threads: int | None) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)


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
