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
import typing
from typing import Any, Callable

from datacomp.entries import load_entry
from datacomp.errors import ConfigError
from datacomp.pipeline.references import references
from datacomp.pipeline.registry import StageContext, StageType

Problem = Callable[[str, str], Exception]


@functools.cache
def stage_config_class(target: str, rename: tuple[tuple[str, str], ...] = (),
                       extra: tuple[tuple[str, Any, Any], ...] = ()) -> type:
    """A dataclass with the library config's fields (renamed ones optional) plus ``extra`` fields."""
    base = load_entry(target)
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
    base = load_entry(target)
    values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name not in extra_names}
    for field_name, key in rename:
        value = values.pop(key)
        values[field_name] = stage if value is None else value
    return base(**values)


def checked_with_references(config: Any, make: Callable[[Any], Any], aliases: dict[str, str] | None = None) -> None:
    """``make(config)`` (which builds the library config and so runs its checks) with every field that refers
    to another stage's output set to its default for the check: such a value is known, and checked, only at
    run time, so a ConfigError naming such a field is put off until then too. ``aliases``: library field ->
    stage key, where they differ."""
    keys = aliases or {}
    referenced = {f.name for f in dataclasses.fields(config) if references(getattr(config, f.name))}
    defaults = {f.name: f.default for f in dataclasses.fields(config)
                if f.name in referenced and f.default is not dataclasses.MISSING}
    try:
        make(dataclasses.replace(config, **defaults))
    except ConfigError as error:
        named = {error.field, *error.others}
        if any(keys.get(field, field) in referenced for field in named):
            return
        raise


def library_stage(target: str, run: Callable[[StageContext, Any, Any], dict[str, Any] | None], description: str,
                  rename: dict[str, str] | None = None,
                  extra: list[tuple[str, Any, Any]] | None = None, also_check: str | None = None) -> StageType:
    """A StageType whose ``run(ctx, library_config, stage_config)`` gets the library's own config."""
    rename_items = tuple((rename or {}).items())
    extra_items = tuple(extra or ())
    extra_names = tuple(name for name, _, _ in extra_items)

    def config_class() -> type:
        return stage_config_class(target, rename_items, extra_items)

    def run_stage(ctx: StageContext, config: Any) -> dict[str, Any] | None:
        try:
            return run(ctx, to_library(target, config, ctx.stage, rename_items, extra_names), config)
        except ConfigError as error:  # the library's field names as this stage's keys
            raise error.renamed(dict(rename_items)) from None

    def further(library_config: Any) -> None:
        """``also_check`` ("module:function"): a check of the built config beyond its __post_init__."""
        if also_check:
            load_entry(also_check)(library_config)

    def check(config: Any, _problem: Problem) -> None:
        """The library config's own checks (its __post_init__: the values alone, no store), now rather than
        when the stage is reached; its field names become the file's keys."""
        aliases = {field: key for field, key in rename_items}
        try:
            checked_with_references(config, lambda stand_in: further(to_library(target, stand_in, "stage",
                                                                                   rename_items, extra_names)),
                                    aliases)
        except ConfigError as error:
            raise error.renamed(aliases) from None

    return StageType(config_class, run_stage, description, check)
