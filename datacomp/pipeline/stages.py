"""The built-in stage types: one config dataclass and one small function per type, one registry line each.

Stage functions are thin: they translate the stage's config into a library call and return outputs
other stages can refer to ("@stage" = the ``ref`` output, "@stage.key" any other).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, Literal

from datacomp.pipeline.library import checked_with_references
from datacomp.pipeline.registry import STAGES, StageContext, StageType

Problem = Callable[[str, str], Exception]


# ------------------------------------------------------------------------------------------ slice
@dataclasses.dataclass
class SliceStageConfig:
    definition: str                                      # shipped name (score_quantile...) or a .sql path
    params: dict[str, Any] = dataclasses.field(default_factory=dict)   # typed by the definition's header
    name: str | None = None                              # slice name; default: the stage name
    description: str | None = None


def run_slice(ctx: StageContext, config: SliceStageConfig) -> dict[str, Any]:
    from datacomp.api import create_slice

    # replace: the stage re-runs only when its config or inputs changed, so the slice must follow.
    result = create_slice(ctx.store, name=config.name or ctx.stage, definition=config.definition,
                          params=config.params, replace=True, description=config.description)
    return {"ref": result.name, "n_members": result.n_members}


def check_slice(config: SliceStageConfig, problem: Problem) -> None:
    """Type-check the params against the definition's header now, not when the stage is reached."""
    from datacomp.curation.definitions import load_definition
    from datacomp.curation.params import coerce
    from datacomp.errors import DatacompError

    if config.definition.startswith("@"):
        return  # known only at run time
    try:
        definition = load_definition(config.definition)
    except DatacompError as error:
        raise problem("definition", str(error)) from None
    for key, value in config.params.items():
        spec = definition.params.get(key)
        if spec is None:
            raise problem(f"params.{key}", f"slice definition {definition.ref}: unknown param '{key}' "
                                           f"(known: {', '.join(definition.params) or 'none'})")
        if isinstance(value, str) and value.startswith("@"):
            continue  # another stage's output: checked when it is known
        try:
            coerce(spec, value, resolve=lambda spec, v: v)
        except DatacompError as error:
            raise problem(f"params.{key}", f"slice definition {definition.ref}: {error}") from None
    for key, spec in definition.params.items():
        if spec.required and key not in config.params:
            raise problem("params", f"slice definition {definition.ref}: missing required param "
                                    f"'{key}' ({spec.type_text})")


def slice_fingerprint(config: SliceStageConfig) -> str:
    """The definition's SQL hash: editing a .sql file re-runs the slice stages that use it."""
    from datacomp.curation.definitions import load_definition

    if config.definition.startswith("@"):
        return None  # another stage's output; that stage's re-runs already propagate
    return load_definition(config.definition).sql_hash


STAGES["slice"] = StageType(SliceStageConfig, run_slice, "a named slice from a SQL slice definition", check_slice,
                            slice_fingerprint)


# ------------------------------------------------------------------------------------------ curriculum
@dataclasses.dataclass
class CurriculumStageConfig:
    slice: str                          # the slice to order (e.g. "@low_entropy")
    by: str = "entropy_mean"            # score column, or n_chars / n_bytes
    model: str | None = None            # scoring model; not needed for n_chars / n_bytes
    descending: bool = False            # ascending = easy (low entropy) first
    buckets: int | None = None
    window_len: int | None = None
    name: str | None = None             # default: the stage name


def curriculum_config(config: CurriculumStageConfig, stage: str) -> Any:
    from datacomp.curation.curriculum import CurriculumConfig

    return CurriculumConfig(slice=config.slice, name=config.name or stage, by=config.by, model=config.model,
                            descending=config.descending, buckets=config.buckets, window_len=config.window_len,
                            replace=True)


def run_curriculum(ctx: StageContext, config: CurriculumStageConfig) -> dict[str, Any]:
    from datacomp.api import curriculum

    result = curriculum(ctx.store, curriculum_config(config, ctx.stage))
    return {"ref": result.name, "n_members": result.n_members}


def check_curriculum(config: CurriculumStageConfig, _problem: Problem) -> None:
    checked_with_references(config, lambda stand_in: curriculum_config(stand_in, "stage"))


STAGES["curriculum"] = StageType(CurriculumStageConfig, run_curriculum, "a slice ordered by a score, in buckets",
                                 check_curriculum)


# ------------------------------------------------------------------------------------------ split
@dataclasses.dataclass
class SplitStageConfig:
    slice: str
    eval_fraction: float = 0.2          # a common hold-out share
    seed: int = 0
    train_name: str | None = None       # default: <slice>/train
    eval_name: str | None = None        # default: <slice>/eval


def split_config(config: SplitStageConfig) -> Any:
    from datacomp.curation.splits import SplitConfig

    return SplitConfig(slice=config.slice, eval_fraction=config.eval_fraction, seed=config.seed,
                       train_name=config.train_name, eval_name=config.eval_name, replace=True)


def run_split(ctx: StageContext, config: SplitStageConfig) -> dict[str, Any]:
    from datacomp.api import split

    train, held_out = split(ctx.store, split_config(config))
    return {"train": train.name, "eval": held_out.name, "n_train": train.n_members, "n_eval": held_out.n_members}


def check_split(config: SplitStageConfig, _problem: Problem) -> None:
    checked_with_references(config, split_config)


STAGES["split"] = StageType(SplitStageConfig, run_split, "train/eval slices by document id", check_split)


# ------------------------------------------------------------------------------------------ export
@dataclasses.dataclass
class ExportStageConfig:
    slice: str
    format: Literal["jsonl", "parquet", "hf"] | None = None  # None: from the extension of `out` (else jsonl)
    out: str | None = None              # relative paths are below the pipeline's out folder;
                                        # default: <out>/<stage>/<slice>.<format>


def run_export(ctx: StageContext, config: ExportStageConfig) -> dict[str, Any]:
    from datacomp.api import export
    from datacomp.curation.export import ExportConfig

    if config.out:
        out = Path(config.out) if Path(config.out).is_absolute() else ctx.out_dir / config.out
    else:
        suffix = "" if config.format == "hf" else f".{config.format or 'jsonl'}"
        out = ctx.stage_dir / f"{config.slice.replace('/', '__')}{suffix}"
    result = export(ctx.store, ExportConfig(slice=config.slice, out=out, format=config.format, overwrite=True))
    return {"ref": str(result.out), "n_rows": result.n_rows}


STAGES["export"] = StageType(ExportStageConfig, run_export, "write a slice as jsonl / parquet / hf dataset")
