"""datacomp: data-centric analysis and curation of text corpora for LLM context compression.

The Python API (the functions the command line calls, and their config dataclasses), importable from here:

    import datacomp as dc

    store = dc.open_store("notebook.duckdb")
    dc.ingest(store, ["texts/"], corpus="mine")

Names load on first use (``import datacomp`` imports neither torch nor the store), so a notebook or the
command line pays only for what it touches. See datacomp/api.py.
"""

from __future__ import annotations

import importlib
from typing import Any

from datacomp.version import __version__  # noqa: F401  (re-exported)

# name -> module that defines it
_EXPORTS = {
    **dict.fromkeys(["open_store", "ingest", "prepare_corpora", "pretrain", "add_model", "copy_test", "score", "create_slice",
                     "curriculum", "split", "export", "train", "evaluate", "report", "results", "merge_stores",
                     "import_shards"], "datacomp.api"),
    "RayOptions": "datacomp.ray_jobs",
    "Store": "datacomp.store",
    "DatacompError": "datacomp.errors",
    "IngestConfig": "datacomp.corpus.ingest",
    "DemoConfig": "datacomp.corpus.demo",
    "PretrainConfig": "datacomp.models.pretrain",
    "CopyTestConfig": "datacomp.models.copy_test",
    "ModelShape": "datacomp.models.architecture",
    "ScoreConfig": "datacomp.scoring.config",
    "SliceConfig": "datacomp.curation.slices",
    "CurriculumConfig": "datacomp.curation.curriculum",
    "SplitConfig": "datacomp.curation.splits",
    "ExportConfig": "datacomp.curation.export",
    "TrainRunConfig": "datacomp.compressors.training_run",
    "EvalConfig": "datacomp.evaluation.runner",
    "ReportConfig": "datacomp.analysis.report",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'datacomp' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value   # imported once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
