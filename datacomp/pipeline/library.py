"""Stage types over library configs that live elsewhere (scoring, pretraining, compressors...).

``library_stage("datacomp.scoring:ScoreConfig", run, ...)`` makes a stage type whose config keys are
exactly that dataclass's fields, imported only when a pipeline uses the type. ``rename`` gives a field
another key in the file (a pretrain config's ``name`` would clash with the stage's own ``name``: it
becomes ``model_name``, and defaults to the stage name); ``extra`` adds keys the library call takes
beside its config (e.g. the paths to ingest).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import typing
from typing import Any, Callable

from datacomp.errors import DatacompError
from datacomp.pipeline.references import references
from datacomp.pipeline.registry import StageContext, StageType
from datacomp.pipeline.typed import flags_as_keys

Problem = Callable[[str, str], Exception]


def import_target(target: str) -> type:
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


@functools.cache
def stage_config_class(target: str, rename: tuple[tuple[str, str], ...] = (),
                       extra: tuple[tuple[str, Any, Any], ...] = ()) -> type:
    """A dataclass with the library config's fields (renamed ones optional) plus ``extra`` fields."""
    base = import_target(target)
    hints = typing.get_type_hints(base)
    renames = dict(rename)
    fields: list[tuple[str, Any, Any]] = []
    for field in dataclasses.fields(base):
        if not field.init:
            continue
        if field.name in renames:
            fields.append((renames[field.name], hints[field.name] | None, dataclasses.field(default=None)))
        elif field.default_factory is not dataclasses.MISSING:
            fields.append((field.name, hints[field.name], dataclasses.field(default_factory=field.default_factory)))
        elif field.default is not dataclasses.MISSING:
            fields.append((field.name, hints[field.name], dataclasses.field(default=field.default)))
        else:
            fields.append((field.name, hints[field.name], dataclasses.field()))
    for name, annotation, default in extra:
        fields.append((name, annotation, dataclasses.field() if default is dataclasses.MISSING
                       else dataclasses.field(default=default)))
    cls = dataclasses.make_dataclass(f"{base.__name__}Stage", fields, kw_only=True)
    cls.__doc__ = f"Pipeline keys of {target} (see its field comments for the reasons behind the defaults)."
    return cls


def to_library(target: str, config: Any, stage: str, rename: tuple[tuple[str, str], ...] = (),
               extra_names: tuple[str, ...] = ()) -> Any:
    """The library config from a stage config: renamed keys back to their fields (None = the stage name)."""
    base = import_target(target)
    values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name not in extra_names}
    for field_name, key in rename:
        value = values.pop(key)
        values[field_name] = stage if value is None else value
    return base(**values)


def library_stage(target: str, run: Callable[[StageContext, Any, Any], dict[str, Any] | None], description: str,
                  rename: dict[str, str] | None = None,
                  extra: list[tuple[str, Any, Any]] | None = None) -> StageType:
    """A StageType whose ``run(ctx, library_config, stage_config)`` gets the library's own config."""
    rename_items = tuple((rename or {}).items())
    extra_items = tuple(extra or ())
    extra_names = tuple(name for name, _, _ in extra_items)

    def config_class() -> type:
        return stage_config_class(target, rename_items, extra_items)

    def run_stage(ctx: StageContext, config: Any) -> dict[str, Any] | None:
        return run(ctx, to_library(target, config, ctx.stage, rename_items, extra_names), config)

    def check(config: Any, problem: Problem) -> None:
        """The library's own checks, now rather than when the stage is reached: building its config, and
        its ``validate()`` / ``check()`` if it has one (pure checks of the values, no store)."""
        if references(config):
            return  # values from other stages are known only at run time; the library checks them then
        try:
            library_config = to_library(target, config, "stage", rename_items, extra_names)
            for name in ("validate", "check"):
                if callable(method := getattr(library_config, name, None)):
                    method()
        except DatacompError as error:
            message, key = flags_as_keys(str(error), type(config))
            raise problem(key or "", message) from None

    return StageType(config_class, run_stage, description, check)
