"""Every config dataclass refuses a bad value as it is built, with a ConfigError naming the field (what the CLI
writes as its flag and a pipeline file as its key)."""

from __future__ import annotations

import importlib

import pytest

from datacomp.errors import ConfigError

# (module:Class, keyword arguments of a config with one bad value, the field named, the message's start)
BAD_VALUES = [
    ("datacomp.scoring.config:ScoreConfig", dict(corpora=["c"], model="m", token_budget=0), "token_budget",
     "token_budget must be positive, got 0"),
    ("datacomp.scoring.config:ScoreConfig", dict(corpora=[], model="m"), "corpora", "corpora is empty"),
    ("datacomp.scoring.config:ScoreConfig", dict(corpora=["c"], encoder="e"), "encoder",
     "encoder given alone: pass both encoder and decoder, or model"),
    ("datacomp.analysis.report:ReportConfig", dict(correction="bonferroni"), "correction",
     "correction must be one of 'holm', 'bh', got 'bonferroni'"),
    ("datacomp.analysis.report:ReportConfig", dict(quality_metric="rouge"), "quality_metric",
     "quality_metric must be one of 'f1', 'em', 'bleu', 'nll_reduction', got 'rouge'"),
    ("datacomp.corpus.ingest:IngestConfig", dict(corpus="web", batch_size=0), "batch_size",
     "batch_size must be at least 1, got 0"),
    ("datacomp.corpus.ingest:IngestConfig", dict(corpus="a b"), "corpus", "corpus 'a b': use letters"),
    ("datacomp.corpus.demo:DemoConfig", dict(max_docs_per_domain=0), "max_docs_per_domain",
     "max_docs_per_domain must be positive, got 0"),
    ("datacomp.models.pretrain:PretrainConfig", dict(name="m", mixture="code=1", validation_fraction=1.0),
     "validation_fraction", "validation_fraction must lie strictly between 0 and 1, got 1.0"),
    ("datacomp.models.pretrain:PretrainConfig", dict(name="m", mixture="code=1", shape={"hidden": 0}),
     "hidden", "shape.hidden must be positive, got 0"),
    ("datacomp.models.architecture:ModelShape", dict(hidden=30, heads=4), "hidden",
     "hidden 30 is not divisible by heads 4"),
    ("datacomp.models.copy_test:CopyTestConfig", dict(model="m", segments=0), "segments",
     "segments must be positive, got 0"),
    ("datacomp.compressors.training_run:TrainRunConfig", dict(ratio=0.5), "ratio", "ratio must be at least 1, got 0.5"),
    ("datacomp.compressors.training_run:TrainRunConfig", dict(schedule="linear"), "schedule",
     "schedule must be one of 'constant', 'cosine', got 'linear'"),
    ("datacomp.compressors.training_run:TrainRunConfig", dict(task="summarise"), "task",
     "task must be one of 'reconstruction', 'continuation', 'qa', 'span-recall', got 'summarise'"),
    ("datacomp.compressors.training_run:TrainRunConfig", dict(micro_batch="many"), "micro_batch",
     "micro_batch 'many': a number of examples (0 = batch_size) or 'auto'"),
    ("datacomp.compressors.training_run:TrainRunConfig", dict(pretrain_steps=5), "pretrain_steps",
     "pretrain_steps needs train_slice"),
    ("datacomp.evaluation.config:EvalConfig", dict(baselines=("full", "nnone")), "baselines",
     "baselines 'nnone' is no baseline; known: 'full'"),
    ("datacomp.evaluation.config:EvalConfig", dict(task="summarise"), "task", "task must be one of 'reconstruction'"),
    ("datacomp.evaluation.config:EvalConfig", dict(dtype="int8"), "dtype", "dtype must be one of 'auto', 'bf16'"),
    ("datacomp.evaluation.config:EvalConfig", dict(prompt_format="xml"), "prompt_format",
     "prompt_format must be one of 'auto', 'plain'"),
    ("datacomp.curation.slices:SliceConfig", dict(name="bad name", definition="all"), "name",
     "name 'bad name' is no slice name"),
    ("datacomp.curation.curriculum:CurriculumConfig", dict(slice="s", name="c", by="n_chars", buckets=0), "buckets",
     "buckets must be positive, got 0"),
    ("datacomp.curation.splits:SplitConfig", dict(slice="s", eval_fraction=0.0), "eval_fraction",
     "eval_fraction must lie strictly between 0 and 1, got 0.0"),
    ("datacomp.curation.splits:SplitConfig", dict(slice="s", train_name="x", eval_name="x"), "eval_name",
     "eval_name 'x' is the train slice's name too"),
    ("datacomp.curation.export:ExportConfig", dict(slice="s", out="o.csv", format="csv"), "format",
     "format must be one of 'jsonl', 'parquet', 'hf', got 'csv'"),
    ("datacomp.compressors.autoencoder:AutoencoderConfig", dict(encoder_training="half"), "encoder_training",
     "encoder_training must be one of 'lora', 'full', got 'half'"),
    ("datacomp.compressors.autoencoder:AutoencoderConfig", dict(ratio=0.5), "ratio", "ratio must be at least 1"),
    ("datacomp.compressors.sac:SACConfig", dict(ratio=2.5), "ratio", "ratio must be a whole number for sac"),
    ("datacomp.compressors.sac:SACConfig", dict(pretrain_objective="ae"), "pretrain_objective",
     "pretrain_objective must be one of 'ae+lm', 'lm', got 'ae'"),
    ("datacomp.compressors.comi:COMIConfig", dict(adapter="mlp"), "adapter",
     "adapter must be one of 'block', 'linear', got 'mlp'"),
    ("datacomp.compressors.comi:COMIConfig", dict(fine_redundancy="clip"), "fine_redundancy",
     "fine_redundancy must be one of 'official', 'exact', got 'clip'"),
    ("datacomp.compressors.comi:MeanPoolConfig", dict(beta_merge=1.0), "beta_merge",
     "beta_merge must be 0 for meanpool, got 1.0"),
]


def config_class(target: str) -> type:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("target, values, field, message", BAD_VALUES,
                         ids=[f"{t.rsplit(':', 1)[1]}-{f}" for t, _, f, _ in BAD_VALUES])
def test_a_bad_value_is_refused_as_the_config_is_built_naming_its_field(target, values, field, message):
    with pytest.raises(ConfigError) as raised:
        config_class(target)(**values)
    assert raised.value.field == field
    assert str(raised.value).startswith(message), str(raised.value)


def test_every_stage_config_of_the_library_is_covered():
    """Each library config a pipeline stage builds has a bad-value case above (a new one needs its own)."""
    from datacomp.pipeline.builtin import stage_types

    covered = {target for target, *_ in BAD_VALUES}
    targets = {f"{stage.config_type.__doc__.split()[3]}" for stage in stage_types().values()
               if (stage.config_type.__doc__ or "").startswith("Pipeline keys of ")}
    assert targets and targets <= covered, sorted(targets - covered)


def test_the_compressor_configs_check_before_any_model_loads(monkeypatch):
    """build_compressor builds the method's config first: a bad ratio never reaches the model loader."""
    import datacomp.compressors.lora as lora
    from datacomp.compressors.registry import build_compressor

    def load_lm(path):
        raise AssertionError(f"a model was loaded ({path})")

    monkeypatch.setattr(lora, "load_lm", load_lm)
    with pytest.raises(ConfigError, match="^ratio must be a whole number for sac"):
        build_compressor("sac", "enc", "dec", {"ratio": 2.5})
