"""`datacomp run PIPELINE.toml` runs a pipeline file; `datacomp stages` lists the stage types."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text

from datacomp.cli.common import JsonOption, app, console, console_err, print_json, print_table


@app.command("run")
def run(
    pipeline_file: Annotated[Path, typer.Argument(metavar="FILE", help="Pipeline file, e.g. pipelines/quickstart.toml.")],
    db: Annotated[Optional[Path], typer.Option("--db", help="Store file [default: the file's [pipeline] db, "
                                               "else $DATACOMP_DB, else ./datacomp.duckdb].")] = None,
    force: Annotated[Optional[list[str]], typer.Option("--force", metavar="STAGE", help="Re-run this stage (and "
                                                       "what depends on it) even if it is up to date; "
                                                       "repeatable.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say which stages would run.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Run every stage of a pipeline file in dependency order, skipping stages that are up to date."""
    from rich.markup import escape

    from datacomp.pipeline.file import load_pipeline
    from datacomp.pipeline.runner import PipelineError, StageOutcome, run_pipeline

    pipeline = load_pipeline(pipeline_file)
    for warning in pipeline.warnings:
        console_err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    outcomes: list[StageOutcome] = []
    log = (lambda message: None) if as_json else (lambda message: console.print(f"[bold]>[/] {message}"))
    try:
        run_pipeline(pipeline, db=db, force=force or [], dry_run=dry_run, log=log, outcomes=outcomes)
    except PipelineError:
        _summary(outcomes, as_json)
        raise
    except BaseException:
        if outcomes:
            _summary(outcomes, as_json)
        raise
    _summary(outcomes, as_json)


def _summary(outcomes, as_json: bool) -> None:
    rows = [{"stage": o.stage, "type": o.type, "status": o.status, "seconds": round(o.seconds, 2),
             "reason": o.reason, "outputs": o.outputs} for o in outcomes]
    if as_json:
        print_json(rows)
        return
    colours = {"ran": "green", "skipped": "dim", "up to date": "dim", "would run": "yellow", "failed": "red",
               "interrupted": "yellow", "not run": "red"}
    for row in rows:
        row["status"] = Text(row["status"], style=colours.get(row["status"], "white"))
        row["time"] = f"{row.pop('seconds'):.1f}s"
        row["output"] = _short(row["outputs"])
    total = sum(o.seconds for o in outcomes)
    print_table(rows, title=f"pipeline: {sum(o.status == 'ran' for o in outcomes)} ran, "
                            f"{sum(o.status == 'skipped' for o in outcomes)} skipped, {total:.1f}s",
                columns=["stage", "type", "status", "time", "reason", "output"])


@app.command("stages")
def stages(
    stage_type: Annotated[Optional[str], typer.Argument(metavar="TYPE", help="Show one type's keys.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The stage types a pipeline file can use, and the keys of their configs."""
    from datacomp.errors import DatacompError
    from datacomp.pipeline.builtin import stage_types
    from datacomp.pipeline.typed import describe_fields

    registry = stage_types()
    if stage_type is not None:
        if stage_type not in registry:
            raise DatacompError(f"unknown stage type {stage_type!r} (known: {', '.join(sorted(registry))})")
        rows = describe_fields(registry[stage_type].config_type)
        print_json(rows) if as_json else print_table(rows, title=f"stage type {stage_type}: "
                                                            f"{registry[stage_type].description}")
        return
    rows = [{"type": name, "description": kind.description,
             "keys": _keys(kind)}
            for name, kind in sorted(registry.items())]
    print_json(rows) if as_json else print_table(rows, title="stage types")


def _keys(kind) -> str:
    from datacomp.pipeline.typed import describe_fields

    try:
        return ", ".join(f["key"] for f in describe_fields(kind.config_type))
    except ImportError as error:  # a stage whose library part is not installed
        return f"(unavailable: {error})"


def _short(outputs: dict, width: int = 48) -> str:
    """The stage's ref output (what "@stage" gives), shortened; `--json` prints every output in full."""
    if not outputs:
        return ""
    value = outputs.get("ref", next(iter(outputs.values())))
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= width else "..." + text[-(width - 3):]
