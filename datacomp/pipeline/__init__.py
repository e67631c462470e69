"""Declarative pipelines: a TOML file of typed stages, run in dependency order, skipping what is done."""

from datacomp.pipeline.file import Pipeline, load_pipeline
from datacomp.pipeline.registry import STAGES, StageContext, StageType
from datacomp.pipeline.runner import PipelineError, StageOutcome, run_pipeline

__all__ = ["Pipeline", "load_pipeline", "STAGES", "StageContext", "StageType", "PipelineError",
           "StageOutcome", "run_pipeline"]
