"""Stage types for the library's other stages, one registry line each (their configs are the library's).

Outputs: "@stage" gives the ``ref`` output: a model id for pretrain, a compressor id for train, the
corpora for prepare_corpora and ingest, the score run id for score, the eval id for evaluate and the
HTML path for report.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from datacomp.pipeline.library import library_stage
from datacomp.pipeline.registry import STAGES, StageContext, StageType


def run_prepare_corpora(ctx: StageContext, config: Any, _stage_config: Any) -> dict[str, Any]:
    from datacomp.api import prepare_corpora

    results = prepare_corpora(ctx.store, config)
    corpora = [r.corpus for r in results if r.summary is not None]
    return {"ref": corpora, "corpora": corpora, "domains": [r.domain for r in results if r.summary is not None],
            "skipped": [r.name for r in results if r.summary is None]}


def run_ingest(ctx: StageContext, config: Any, stage_config: Any) -> dict[str, Any]:
    from datacomp.api import ingest

    from datacomp.errors import DatacompError

    summary = ingest(ctx.store, list(stage_config.paths), config)
    problem = summary.problem(", ".join(map(str, stage_config.paths)))  # the rule `datacomp ingest` applies
    if problem:
        raise DatacompError(problem)
    return {"ref": [summary.corpus], **summary.as_dict()}


def run_pretrain(ctx: StageContext, config: Any, _stage_config: Any) -> dict[str, Any]:
    from datacomp.api import pretrain

    record = pretrain(ctx.store, config)
    return {"ref": record.model_id, "model_id": record.model_id, "path": record.path,
            "tokenizer_id": record.tokenizer_id, "n_params": record.n_params}


@dataclasses.dataclass
class AddModelStageConfig:
    path: str                          # a model folder, a .gguf file, or a shortcut such as smollm2
    model_name: str | None = None      # registry name; default: what `datacomp models add` picks
    trust_remote_code: bool = False    # never run a folder's own Python code unless asked


def run_add_model(ctx: StageContext, config: AddModelStageConfig) -> dict[str, Any]:
    from datacomp.api import add_model

    record = add_model(ctx.store, config.path, model_name=config.model_name, trust_remote_code=config.trust_remote_code)
    return {"ref": record.model_id, "model_id": record.model_id, "path": record.path,
            "tokenizer_id": record.tokenizer_id, "n_params": record.n_params}


def run_copy_test(ctx: StageContext, config: Any, _stage_config: Any) -> dict[str, Any]:
    from datacomp.api import copy_test

    results = copy_test(ctx.store, config)
    if not results:
        from datacomp.errors import DatacompError

        raise DatacompError(f"copy_test of {config.model}: no domain has held-out text for one segment of "
                            f"{config.segment_tokens} tokens; ingest more documents or lower segment_tokens")
    return {"ref": config.model, "reads_context": all(r.reads_context for r in results.values()),
            **{domain: r.as_dict() for domain, r in results.items()}}


def run_score(ctx: StageContext, config: Any, _stage_config: Any) -> dict[str, Any]:
    from datacomp.api import score

    summary = score(ctx.store, config)
    return {"ref": summary.run_id, **{k: v for k, v in dataclasses.asdict(summary).items()
                                      if k in ("run_id", "model_ids", "window", "stride", "dtype", "gap_method",
                                               "docs_selected", "docs_scored", "docs_skipped")}}


def run_train(ctx: StageContext, config: Any, _stage_config: Any) -> dict[str, Any]:
    from datacomp.api import train

    trained = train(ctx.store, config)
    return {"ref": trained.compressor_id, "compressor_id": trained.compressor_id, "checkpoint": trained.checkpoint,
            "method": trained.method, "ratio": trained.ratio}


def run_evaluate(ctx: StageContext, config: Any, _stage_config: Any) -> dict[str, Any]:
    from datacomp.api import evaluate

    summary = evaluate(ctx.store, config)
    return {"ref": summary.eval_id, "eval_id": summary.eval_id, "run_id": summary.run_id,
            "n_examples": summary.n_examples, "n_rows_written": summary.n_rows_written}


def run_report(ctx: StageContext, config: Any, stage_config: Any) -> dict[str, Any]:
    from datacomp.api import report

    if stage_config.out:  # relative paths are below the pipeline's out folder
        out = Path(stage_config.out) if Path(stage_config.out).is_absolute() else ctx.out_dir / stage_config.out
    else:
        out = ctx.stage_dir
    paths = {name: str(path) for name, path in report(ctx.store, config, out=out).items()}
    return {"ref": paths.get("html") or next(iter(paths.values()), str(out)), **paths}


STAGES["prepare_corpora"] = library_stage("datacomp.corpus.demo:DemoConfig", run_prepare_corpora,
                                          "gather and ingest the built-in demo corpora")
STAGES["ingest"] = library_stage("datacomp.corpus.ingest:IngestConfig", run_ingest, "ingest files into a corpus",
                                 extra=[("paths", list[str], dataclasses.MISSING)])
STAGES["pretrain"] = library_stage("datacomp.models.pretrain:PretrainConfig", run_pretrain,
                                   "pretrain a small reference LM on a domain mixture",
                                   rename={"name": "model_name"})
STAGES["add_model"] = StageType(AddModelStageConfig, run_add_model, "register an existing model folder or GGUF file")
STAGES["copy_test"] = library_stage("datacomp.models.copy_test:CopyTestConfig", run_copy_test,
                                    "the restated-segment test: does a model read its context?")
STAGES["score"] = library_stage("datacomp.scoring.config:ScoreConfig", run_score,
                                "score corpora under a model, or an encoder and a decoder and their gap")
STAGES["train"] = library_stage("datacomp.compressors.training_run:TrainRunConfig", run_train,
                                "train a compressor on a slice",
                                also_check="datacomp.compressors.training_run:check_method_config")
STAGES["evaluate"] = library_stage("datacomp.evaluation.config:EvalConfig", run_evaluate,
                                   "evaluate a compressor and the baselines per example")
STAGES["report"] = library_stage("datacomp.analysis.report:ReportConfig", run_report,
                                 "statistics, figures and guidelines as Markdown, HTML and JSON",
                                 extra=[("out", str | None, None)])
