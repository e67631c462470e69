"""The Python API: each command as a plain function of a store and its config dataclass.

    import datacomp as dc

    store = dc.open_store("notebook.duckdb")
    dc.ingest(store, ["texts/"], corpus="mine")               # keyword arguments build the config ...
    dc.score(store, dc.ScoreConfig(corpora=["mine"], model="ref"))   # ... or pass the dataclass itself

The command line calls these same functions (`datacomp score` builds a ``ScoreConfig`` from its flags and
calls ``score``), and pipeline stages take the same configs, so a flag, a pipeline key and a config field
are one name. ``store`` is an open ``Store`` or a path (opened for the call and closed again; a command
that needs data refuses a path with no store behind it). Errors are ``DatacompError`` with one line naming
the field as its flag (``--token-budget`` is the field ``token_budget``). A field or argument that takes a
list refuses a bare string (``corpora="notes"``), one rule for every function (``_config``).

Heavy libraries (torch, transformers) load inside the functions, when a function needs them.
"""

from __future__ import annotations

import collections.abc
import contextlib
import dataclasses
import os
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence, TypeVar

from datacomp.errors import DatacompError

if TYPE_CHECKING:
    from datacomp.analysis.report import ReportConfig
    from datacomp.compressors.training_run import TrainedCompressor, TrainRunConfig
    from datacomp.corpus.demo import DemoConfig, PreparedCorpus
    from datacomp.corpus.ingest import IngestConfig, IngestSummary
    from datacomp.curation.curriculum import CurriculumConfig
    from datacomp.curation.export import ExportConfig, ExportResult
    from datacomp.curation.slices import SliceConfig, SliceResult
    from datacomp.curation.splits import SplitConfig
    from datacomp.evaluation.runner import EvalConfig, EvalSummary
    from datacomp.models.copy_test import CopyTest, CopyTestConfig
    from datacomp.models.pretrain import PretrainConfig
    from datacomp.models.registry import ModelRecord
    from datacomp.compressors.distributed import Distributed
    from datacomp.ray_jobs import RayOptions
    from datacomp.scoring.config import ScoreConfig, ScoreSummary
    from datacomp.store import Store
    from datacomp.store.merge import MergeSummary

    StoreLike = Store | str | os.PathLike[str]   # an open store, or the path of one

Config = TypeVar("Config")


# ------------------------------------------------------------------------------------------ the store
def open_store(path: str | os.PathLike[str] | None = None, *, read_only: bool = False,
               create: bool = True, parents: bool = False) -> Store:
    """The store at ``path`` (default ``$DATACOMP_DB``, else ./datacomp.duckdb), created and migrated when
    missing unless ``create`` is False or ``read_only`` (then a missing store is an error). A new store's
    folder must exist: a missing one is an error naming it unless ``parents`` (then it is created), so a
    mistyped path leaves nothing behind. Use it as a context manager, or call ``close()``; a read-only store
    can be read while another process writes (from a copy of the file taken when it is opened:
    ``store.snapshot_dir`` is then set)."""
    from datacomp.store import open_store as open_path
    from datacomp.store.db import default_db_path

    location = Path(path) if path else default_db_path()
    if (read_only or not create) and not location.is_file():
        raise DatacompError(f"no store at {location} (create one with datacomp ingest or datacomp run)")
    return open_path(location, read_only=read_only, parents=parents)


@contextlib.contextmanager
def _opened(store: Any, create: bool = False, read_only: bool = False) -> Iterator[Store]:
    """``store`` itself, or the store at a path, opened for one call."""
    if isinstance(store, (str, os.PathLike)):
        with open_store(store, create=create, read_only=read_only) as opened:
            yield opened
    else:
        yield store


def _run(function: Any, store: Any, *args: Any, create: bool = False) -> Any:
    """``function(store, *args)`` on ``store``, or on the store at a path opened for the call."""
    with _opened(store, create=create) as opened:
        return function(opened, *args)


def _config(cls: type[Config], config: Config | None, fields: dict[str, Any]) -> Config:
    """``config`` with ``fields`` replaced, or ``cls(**fields)``; an unknown field names the known ones, and a
    list field holding a bare string is refused (``_not_a_string``)."""
    known = [field.name for field in dataclasses.fields(cls) if field.init]
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {unknown[0]!r} (fields: {', '.join(known)})")
    hints = typing.get_type_hints(cls)
    for name, value in fields.items():  # before the config's own checks see the letters as a list
        if _takes_a_list(hints[name]):
            _not_a_string(name, value)
    built = cls(**fields) if config is None else dataclasses.replace(config, **fields) if fields else config
    for field in dataclasses.fields(cls):
        if _takes_a_list(hints[field.name]):
            _not_a_string(field.name, getattr(built, field.name))
    return built


def _takes_a_list(hint: Any) -> bool:
    """A list / tuple / set / Sequence type (or an optional one) with no ``str`` beside it in a union."""
    members = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    sequences = (list, tuple, set, frozenset, collections.abc.Sequence, collections.abc.Iterable)
    return str not in members and any(typing.get_origin(m) in sequences or m in sequences for m in members)


def _not_a_string(name: str, value: Any) -> None:
    """The one rule for arguments that take lists: a bare string is refused, never read as a list of its
    characters (``corpora="notes"`` once meant the corpora 'n', 'o', 't', 'e', 's')."""
    if isinstance(value, (str, bytes, os.PathLike)):
        raise DatacompError(f"{name}={value!r}: expected a list, got one {type(value).__name__}; write "
                            f"{name}=[{value!r}]")


# ------------------------------------------------------------------------------------------ corpora
def ingest(store: StoreLike, paths: Sequence[str | os.PathLike[str]], config: IngestConfig | None = None,
           **fields: Any) -> IngestSummary:
    """Read jsonl(.gz) / csv(.gz) / parquet / text files or folders into corpus ``config.corpus``."""
    from datacomp.corpus.ingest import IngestConfig, ingest_paths

    _not_a_string("paths", paths)
    return _run(ingest_paths, store, [str(path) for path in paths], _config(IngestConfig, config, fields), create=True)


def prepare_corpora(store: StoreLike, config: DemoConfig | None = None, **fields: Any) -> list[PreparedCorpus]:
    """Gather and ingest the built-in demo corpora (literature, encyclopedic, code, technical)."""
    from datacomp.corpus.demo import DemoConfig, prepare_demo_corpora

    config = _config(DemoConfig, config, fields)
    with _opened(store, create=True) as opened:
        return prepare_demo_corpora(opened, config.cache_dir, config.max_docs_per_domain, config.domains,
                                    config.seed)


# ------------------------------------------------------------------------------------------ models
def pretrain(store: StoreLike, config: PretrainConfig | None = None, **fields: Any) -> ModelRecord:
    """Pretrain a small Llama on a domain mixture of the store, save it and register it."""
    from datacomp.models.pretrain import PretrainConfig, pretrain as run_pretrain

    return _run(run_pretrain, store, _config(PretrainConfig, config, fields))


def add_model(store: StoreLike, path: str | os.PathLike[str] | None = None, *, from_compressor: str | None = None,
              model_name: str | None = None, trust_remote_code: bool = False) -> ModelRecord:
    """Register a model folder, a .gguf file (dequantised once) or ``smollm2``; or, with ``from_compressor``,
    a trained compressor's encoder (LoRA merged)."""
    if (path is None) == (from_compressor is None):
        raise DatacompError("models add: give either PATH or --from-compressor ID" +
                            (", not both" if path is not None else ""))
    with _opened(store, create=True) as opened:
        if from_compressor is not None:
            from datacomp.compressors.encoder_export import export_compressor_encoder

            return export_compressor_encoder(opened, from_compressor, name=model_name)
        from datacomp.models.adding import add_model as register

        return register(opened, path, name=model_name, trust_remote_code=trust_remote_code)


def copy_test(store: StoreLike, config: CopyTestConfig | None = None, **fields: Any) -> dict[str, CopyTest]:
    """The restated-segment test of a registered model on held-out text of each domain (does it read its
    context?), stored in ``copy_tests``; returns the result per domain."""
    from datacomp.models.copy_test import CopyTestConfig, run_copy_test

    return _run(run_copy_test, store, _config(CopyTestConfig, config, fields))


# ------------------------------------------------------------------------------------------ scoring
def score(store: StoreLike, config: ScoreConfig | None = None, *, ray: RayOptions | None = None,
          **fields: Any) -> ScoreSummary:
    """Score documents under one model, or an encoder, a decoder and their gap (resumable); with ``ray``, on
    Ray workers (the same rows)."""
    from datacomp.scoring import ScoreConfig, score_corpus

    config = _config(ScoreConfig, config, fields)
    if ray is not None:
        from datacomp.models.precision import worker_precision
        from datacomp.scoring.ray_engine import score_corpus_ray

        config = dataclasses.replace(config, dtype=worker_precision(config.dtype, ray.gpus_per_worker))
        return _run(score_corpus_ray, store, config, ray)
    return _run(score_corpus, store, config)


# ------------------------------------------------------------------------------------------ curation
def create_slice(store: StoreLike, config: SliceConfig | None = None, **fields: Any) -> SliceResult:
    """A named slice from a slice definition and its params (``datacomp slice create``). Named
    ``create_slice``, not ``slice``, so that ``from datacomp import *`` keeps Python's own ``slice``."""
    from datacomp.curation.slices import SliceConfig, create_slice as run_definition

    config = _config(SliceConfig, config, fields)
    with _opened(store) as opened:
        return run_definition(opened, config.name, config.definition, config.params, replace=config.replace,
                              description=config.description)


def curriculum(store: StoreLike, config: CurriculumConfig | None = None, **fields: Any) -> SliceResult:
    """A slice ordered by a score (e.g. encoder entropy, ascending), optionally in buckets."""
    from datacomp.curation.curriculum import CurriculumConfig, build_curriculum

    return _run(build_curriculum, store, _config(CurriculumConfig, config, fields))


def split(store: StoreLike, config: SplitConfig | None = None, **fields: Any) -> tuple[SliceResult, SliceResult]:
    """(train, eval) slices of a slice by document id: no document is in both."""
    from datacomp.curation.splits import SplitConfig, split_slice

    return _run(split_slice, store, _config(SplitConfig, config, fields))


def export(store: StoreLike, config: ExportConfig | None = None, **fields: Any) -> ExportResult:
    """Write a slice's documents with their text and scores (.jsonl, .jsonl.gz, .parquet, or an HF folder)."""
    from datacomp.curation.export import ExportConfig, export_slice

    return _run(export_slice, store, _config(ExportConfig, config, fields))


# ------------------------------------------------------------------------------------------ compressors
def train(store: StoreLike | None, config: TrainRunConfig | None = None, *, distributed: Distributed | None = None,
          **fields: Any) -> TrainedCompressor:
    """Train a compressor on a slice, save it and record it (resumes an interrupted run). Under torchrun,
    ``distributed`` (compressors/distributed.py ``from_environment()``) is this process's rank: rank 0 passes
    the store, the others None."""
    from datacomp.compressors.training_run import TrainRunConfig, train_on_store

    return _run(train_on_store, store, _config(TrainRunConfig, config, fields), distributed)


def evaluate(store: StoreLike, config: EvalConfig | None = None, *, ray: RayOptions | None = None,
             **fields: Any) -> EvalSummary:
    """Evaluate a compressor and the baselines per example, with paired differences (resumable); with
    ``ray``, the batches run on Ray workers (with GPU workers, dtype auto means bf16)."""
    from datacomp.evaluation.runner import EvalConfig, evaluate as run_evaluation

    config = _config(EvalConfig, config, fields)
    if ray is None:
        return _run(run_evaluation, store, config)
    from datacomp.evaluation.ray_engine import RayEvaluation
    from datacomp.models.precision import worker_precision

    config = dataclasses.replace(config, dtype=worker_precision(config.dtype, ray.gpus_per_worker))
    return _run(run_evaluation, store, config, RayEvaluation(ray))


def merge_stores(store: StoreLike, paths: Sequence[str | os.PathLike[str]], *, rtol: float | None = None
                 ) -> MergeSummary:
    """Merge other store files into ``store`` (created when missing): rows added, skipped (already there,
    the same values to ``rtol``) or refused (conflicting, or lacking their document or model), per table."""
    from datacomp.store.merge import DEFAULT_RTOL, merge_store_files

    _not_a_string("paths", paths)
    return _run(merge_store_files, store, list(paths), DEFAULT_RTOL if rtol is None else rtol, create=True)


def import_shards(store: StoreLike, folder: str | os.PathLike[str], *, rtol: float | None = None
                  ) -> MergeSummary:
    """Import a folder of Parquet shards (written by ``--engine ray`` runs) into ``store``, as ``merge_stores``."""
    from datacomp.store.merge import DEFAULT_RTOL, import_folder

    return _run(import_folder, store, folder, DEFAULT_RTOL if rtol is None else rtol, create=True)


# ------------------------------------------------------------------------------------------ reports
def report(store: StoreLike, config: ReportConfig | None = None, *, out: str | os.PathLike[str] = "report",
           **fields: Any) -> dict[str, Path]:
    """Write report.md, report.html and report.json into ``out``; returns their paths by format."""
    from datacomp.analysis.report import ReportConfig, make_report

    config = _config(ReportConfig, config, fields)
    return _run(make_report, store, config, out)  # the report records its run


def results(store: StoreLike, task: str | None = None) -> list[dict[str, Any]]:
    """Every evaluated system side by side (``datacomp store results``): F1 / EM / BLEU, target NLL, NLL
    reduction and training time, one dict per (task, system)."""
    with _opened(store, read_only=True) as opened:   # an open store is used as is
        if task is not None:
            tasks = [row["task"] for row in opened.rows("evaluation/tasks")]
            if task not in tasks:
                raise DatacompError(f"unknown task {task!r}; tasks with evaluations: {', '.join(tasks) or 'none'}")
        return opened.rows("evaluation/results", {"task": task})
