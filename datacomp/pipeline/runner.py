"""Running a pipeline: each stage in dependency order, skipping what is already up to date.

A stage runs when it never finished, when its config (as written in the file) changed, when it is
forced, or when a stage it depends on ran again (a new execution upstream makes its inputs new).
Otherwise it is skipped and its recorded outputs serve the stages after it. So changing one stage's
config re-runs that stage and, transitively, what depends on it, and nothing else.
"""

from __future__ import annotations

import dataclasses
import json
import time
import typing
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from datacomp.errors import ConfigError, DatacompError
from datacomp.interrupts import is_interrupt
from datacomp.pipeline.builtin import stage_types
from datacomp.pipeline.file import Pipeline, StageSpec, load_pipeline
from datacomp.pipeline.references import references
from datacomp.pipeline.registry import StageContext
from datacomp.pipeline.typed import check_value, config_error_text
from datacomp.store import Store, open_store
from datacomp.store.db import default_db_path
from datacomp.store.runs import config_hash, record_run, to_jsonable


@dataclasses.dataclass
class StageOutcome:
    stage: str
    type: str
    status: str                  # ran / skipped / failed / not run / would run / up to date
    reason: str                  # why it ran or was skipped
    seconds: float = 0.0
    outputs: dict[str, Any] = dataclasses.field(default_factory=dict)


class PipelineError(DatacompError):
    """A stage failed; ``outcomes`` says what happened to every stage."""

    def __init__(self, message: str, outcomes: list[StageOutcome]):
        super().__init__(message)
        self.outcomes = outcomes


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def stage_hash(stage: StageSpec) -> str:
    """Hash of the stage's type, its config as written, and its type's fingerprint of outside inputs."""
    kind = stage_types().get(stage.type)
    extra = kind.fingerprint(stage.config) if kind is not None and kind.fingerprint else None
    return config_hash({"type": stage.type, "config": to_jsonable(stage.config), "fingerprint": extra})


def resolve_paths(pipeline: Pipeline, db: str | Path | None) -> tuple[Path, Path]:
    """(db file, output folder): --db, else the file's db, else $DATACOMP_DB / ./datacomp.duckdb;
    out = the file's out, else the db's folder when the file names a db, else out/<pipeline name>."""
    db_path = Path(db) if db else (pipeline.db or default_db_path())
    if pipeline.out:
        out = pipeline.out
    elif pipeline.db or db:
        out = db_path.parent
    else:
        out = Path("out") / pipeline.name
    return db_path, out


def resolve_references(value: Any, outputs: dict[str, dict[str, Any]], stage: str) -> Any:
    """``value`` with every "@stage[.key]" string replaced by that stage's output."""
    if isinstance(value, str) and references(value):
        [(target, key)] = references(value)
        produced = outputs.get(target, {})
        if key is None:
            if "ref" in produced:
                return produced["ref"]
            if len(produced) == 1:
                return next(iter(produced.values()))
            raise DatacompError(f"stage '{stage}': '@{target}' is ambiguous: stage '{target}' produced "
                                f"{', '.join(produced) or 'no outputs'}; write '@{target}.KEY'")
        if key not in produced:
            raise DatacompError(f"stage '{stage}': '@{target}.{key}': stage '{target}' produced no '{key}' "
                                f"(outputs: {', '.join(produced) or 'none'})")
        return produced[key]
    if isinstance(value, dict):
        return {k: resolve_references(v, outputs, stage) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_references(v, outputs, stage) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve_references(v, outputs, stage) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        hints = typing.get_type_hints(type(value))
        changes = {}
        for field in dataclasses.fields(value):
            raw = getattr(value, field.name)
            if field.init and references(raw):
                resolved = resolve_references(raw, outputs, stage)
                try:  # the file could only say "@x"; now the value must have the field's type
                    changes[field.name] = check_value(hints[field.name], resolved, field.name)
                except DatacompError as error:
                    raise DatacompError(f"stage '{stage}': {error} (the output {raw!r})") from None
        return dataclasses.replace(value, **changes)
    return value


def _stored(store: Store | None, pipeline: str, stage: str) -> dict[str, Any] | None:
    if store is None:   # a dry run before the store exists: nothing has run
        return None
    rows = store.rows("pipeline/stage_get", {"pipeline": pipeline, "stage": stage})
    if not rows:
        return None
    row = rows[0]
    for key in ("upstream", "outputs"):
        if isinstance(row[key], str):
            row[key] = json.loads(row[key])
    return row


def decide(stage: StageSpec, stored: dict[str, Any] | None, executions: dict[str, str],
           reran: set[str], forced: set[str]) -> str | None:
    """Why ``stage`` must run, or None when it is up to date."""
    if stage.name in forced:
        return "forced"
    if stored is None:
        return "never ran"
    if stored["status"] != "finished":
        return f"last run {stored['status']}"
    if stored["config_hash"] != stage_hash(stage) or stored["stage_type"] != stage.type:
        return "config changed"
    upstream_changed = [d for d in stage.after if d in reran]
    if upstream_changed:
        return f"{', '.join(upstream_changed)} ran"
    if (stored["upstream"] or {}) != {d: executions.get(d) for d in stage.after}:
        return "dependencies changed"
    return None


SLICE_OUTPUTS = {"slice": ("ref",), "curriculum": ("ref",), "split": ("train", "eval")}


def outputs_gone(store, stage_type: str, outputs: dict[str, Any]) -> str | None:
    """Why a finished stage's recorded outputs no longer stand, or None: a file or folder it wrote (an
    absolute path among its outputs) was deleted, or a slice it made was dropped from the store."""
    for key, value in outputs.items():
        if isinstance(value, str) and Path(value).is_absolute() and not Path(value).exists():
            return f"its output {key} ({value}) is gone"
    for key in SLICE_OUTPUTS.get(stage_type, ()):
        name = outputs.get(key)
        if isinstance(name, str) and not store.rows("compressors/slice_exists", {"slice": name}):
            return f"its slice {name!r} is gone"
    return None


def run_pipeline(pipeline: Pipeline | str | Path, db: str | Path | None = None, force: Iterable[str] = (),
                 dry_run: bool = False, log: Callable[[str], None] | None = None,
                 outcomes: list[StageOutcome] | None = None) -> list[StageOutcome]:
    """Run (or with ``dry_run`` only plan, creating nothing) every stage; returns one outcome per stage, in run
    order. A real run creates the store (with its folder) when missing.

    A failing stage is recorded as failed, the stages after it are 'not run', and a PipelineError
    (for user errors) or the original exception propagates; ``outcomes``, if given, is filled as it goes.
    """
    pipeline = pipeline if isinstance(pipeline, Pipeline) else load_pipeline(pipeline)
    forced = set(force)
    names = [s.name for s in pipeline.stages]
    for name in forced:
        if name not in names:
            raise DatacompError(f"--force {name!r}: no stage of that name in {pipeline.path} "
                                f"(stages: {', '.join(names)})")
    db_path, out_dir = resolve_paths(pipeline, db)
    registry = stage_types()
    outcomes = [] if outcomes is None else outcomes
    log = log or (lambda message: None)
    with (_planning_store(db_path) if dry_run else open_store(db_path, parents=True)) as store:
        executions: dict[str, str] = {}
        outputs: dict[str, dict[str, Any]] = {}
        reran: set[str] = set()
        summary = {"pipeline": pipeline.name, "file": str(pipeline.path), "force": sorted(forced)}
        with record_run(store, "pipeline", summary) if not dry_run else _no_run() as run:
            for position, stage in enumerate(pipeline.stages):
                stored = _stored(store, pipeline.name, stage.name)
                reason = decide(stage, stored, executions, reran, forced)
                if reason is None:
                    reason = outputs_gone(store, stage.type, stored["outputs"] or {})
                if reason is None:
                    executions[stage.name] = stored["execution_id"]
                    outputs[stage.name] = stored["outputs"] or {}
                    outcomes.append(StageOutcome(stage.name, stage.type, "up to date" if dry_run else "skipped",
                                                 "unchanged", 0.0, outputs[stage.name]))
                    continue
                if dry_run:
                    executions[stage.name] = f"planned-{stage.name}"
                    reran.add(stage.name)
                    outcomes.append(StageOutcome(stage.name, stage.type, "would run", reason))
                    continue
                log(f"stage {stage.name} ({stage.type}): running ({reason})")
                execution_id = f"{stage.name}-{uuid.uuid4().hex[:12]}"
                upstream = {d: executions[d] for d in stage.after}
                store.run("pipeline/stage_start", {
                    "pipeline": pipeline.name, "stage": stage.name, "stage_type": stage.type,
                    "config_hash": stage_hash(stage), "upstream": json.dumps(upstream), "execution_id": execution_id,
                    "config": json.dumps(to_jsonable(stage.config)), "started_at": _now()})
                start = time.perf_counter()
                try:
                    config = resolve_references(stage.config, outputs, stage.name)
                    context = StageContext(store=store, pipeline=pipeline.name, stage=stage.name, out_dir=out_dir,
                                           outputs=outputs)
                    produced = to_jsonable(registry[stage.type].run(context, config) or {})
                    if not isinstance(produced, dict):
                        raise DatacompError(f"stage '{stage.name}' ({stage.type}) returned {produced!r}, not a dict "
                                            "of outputs (a bug in the stage type)")
                except BaseException as error:
                    seconds = time.perf_counter() - start
                    ended = "interrupted" if is_interrupt(error) else "failed"
                    store.run("pipeline/stage_finish", {
                        "pipeline": pipeline.name, "stage": stage.name, "execution_id": execution_id,
                        "status": ended, "outputs": None, "finished_at": _now(), "seconds": seconds,
                        "error": f"{type(error).__name__}: {error}"})
                    outcomes.append(StageOutcome(stage.name, stage.type, ended, str(error), seconds))
                    outcomes.extend(StageOutcome(s.name, s.type, "not run", f"{stage.name} {ended}")
                                    for s in pipeline.stages[position + 1:])
                    failed = f"stage '{stage.name}' ({stage.type}) failed: "
                    if isinstance(error, ConfigError) and stage.where:  # a store-dependent check: its key's line
                        raise PipelineError(config_error_text(error, type(stage.config), stage.where, failed),
                                            outcomes) from error
                    if isinstance(error, DatacompError):
                        raise PipelineError(f"{pipeline.path}:{stage.line}: {failed}{error}", outcomes) from error
                    raise
                seconds = time.perf_counter() - start
                store.run("pipeline/stage_finish", {
                    "pipeline": pipeline.name, "stage": stage.name, "execution_id": execution_id,
                    "status": "finished", "outputs": json.dumps(produced), "finished_at": _now(),
                    "seconds": seconds, "error": None})
                executions[stage.name] = execution_id
                outputs[stage.name] = produced
                reran.add(stage.name)
                outcomes.append(StageOutcome(stage.name, stage.type, "ran", reason, seconds, produced))
                run.count("ran")
            run.count("stages", len(pipeline.stages))
    return outcomes


def _planning_store(db_path: Path):
    """What a dry run reads: the store opened read-only, or None when there is none yet; a plan writes nothing
    (no store file, no output folder)."""
    from contextlib import nullcontext

    return open_store(db_path, read_only=True) if db_path.is_file() else nullcontext(None)


class _no_run:
    """Stands in for record_run during a dry run: nothing is written."""

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def count(self, *args: Any) -> None:
        return None
