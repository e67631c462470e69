"""Every error names its flag on the command line and its key (with the key's line) in a pipeline file: a
config's check raises ConfigError naming the field, and each front end writes the field in its own words."""

from __future__ import annotations

import re

import pytest
from cli_capture import run_main

from datacomp.errors import DatacompError
from datacomp.pipeline import load_pipeline, run_pipeline


@pytest.mark.parametrize("stage, line, message", [
    ('type = "pretrain"\nmixture = "code=1"\nsteps = 0\n', 5, "steps must be positive, got 0"),
    ('type = "pretrain"\nmixture = "code=1"\nshape = { hidden = 0 }\n', 5,
     "shape.hidden must be positive, got 0"),
    ('type = "score"\ncorpora = ["web"]\nmodel = "m"\ntoken_budget = 0\n', 6,
     "token_budget must be positive, got 0"),
    ('type = "score"\ncorpora = ["web"]\nmodel = "m"\nshard = "3/2"\n', 6, r"shard 3/2: need n >= 1"),
    ('type = "report"\ncorrection = "bonferroni"\n', 4, "correction must be one of 'holm', 'bh', got 'bonferroni'"),
    ('type = "ingest"\npaths = ["x.jsonl"]\ncorpus = "web"\nbatch_size = 0\n', 6,
     "batch_size must be at least 1, got 0"),
])
def test_a_library_check_names_the_key_and_its_line_when_the_file_is_read(tmp_path, stage, line, message):
    path = tmp_path / "p.toml"
    path.write_text(f'[[stage]]\nname = "s"\n{stage}')
    with pytest.raises(DatacompError) as raised:
        load_pipeline(path)
    assert str(raised.value).startswith(f"{path}:{line}: stage 's': "), str(raised.value)
    assert re.search(message, str(raised.value)), str(raised.value)
    assert "--" not in str(raised.value)


def test_a_run_time_error_names_the_key_and_its_line(tmp_path):
    """A check that needs the store (is there an evaluation of this task?) fails when the stage runs, at its
    key's line; one of the values alone fails when the file is read (the split's fraction)."""
    from datacomp.store import open_store

    db = tmp_path / "s.duckdb"
    open_store(db).close()
    path = tmp_path / "p.toml"
    path.write_text('[[stage]]\nname = "r"\ntype = "report"\nfigures = false\n\ntask = "qa"\n')
    with pytest.raises(DatacompError) as raised:
        run_pipeline(path, db=db)
    assert str(raised.value).startswith(f"{path}:6: stage 'r' (report) failed: task 'qa' has no evaluations in ")
    path.write_text('[[stage]]\nname = "halves"\ntype = "split"\nslice = "all"\n\neval_fraction = 1.5\n')
    with pytest.raises(DatacompError) as raised:
        load_pipeline(path)
    assert str(raised.value) == f"{path}:6: stage 'halves': eval_fraction must lie strictly between 0 and 1, got 1.5"


@pytest.mark.parametrize("argv, message", [
    (["score", "--corpus", "web", "--model", "m", "--token-budget", "0"], "error: --token-budget must be positive, got 0"),
    (["score", "--corpus", "web", "--encoder", "m"], "error: --encoder given alone: pass both --encoder and --decoder"),
    (["split", "all", "--eval-fraction", "1.5"], "error: --eval-fraction must lie strictly between 0 and 1, got 1.5"),
    (["pretrain", "--model-name", "x", "--mixture", "code=1", "--steps", "0"], "error: --steps must be positive, got 0"),
    (["pretrain", "--model-name", "x", "--mixture", "code=1", "--hidden", "0"],
     "error: --hidden must be positive, got 0"),
    (["ingest", "x.jsonl", "--corpus", "web", "--batch-size", "0"], "error: --batch-size must be at least 1, got 0"),
    (["report", "--correction", "bonferroni"], "error: --correction must be one of 'holm', 'bh', got 'bonferroni'"),
    (["train", "--method", "sac", "--ratio", "4", "--encoder", "m", "--decoder", "m", "--train-slice", "s",
      "--method-config", "rank=4"], "error: --method-config rank: unknown sac config key"),
])
def test_a_command_line_error_names_its_flag(capsys, tmp_path, argv, message):
    from datacomp.store import open_store

    db = tmp_path / "s.duckdb"
    open_store(db).close()
    code, _, err = run_main(capsys, *argv, "--db", str(db))
    assert code == 2 and err.startswith(message), err


def test_a_renamed_key_still_reads_with_a_warning(capsys, tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[[stage]]\nname = "enc"\ntype = "pretrain"\nmixture = "code=1"\nprecision = "fp32"\n')
    pipeline = load_pipeline(path)
    assert pipeline.stage("enc").config.dtype == "fp32"
    assert pipeline.warnings == [f"{path}:5: stage 'enc': key 'precision' is deprecated: use 'dtype' (the old "
                                 "spelling goes in the next release)"]
    code, out, err = run_main(capsys, "run", str(path), "--dry-run", "--db", str(tmp_path / "s.duckdb"))
    assert code == 0 and err == f"warning: {pipeline.warnings[0]}" and "would run" in out
    path.write_text('[[stage]]\nname = "enc"\ntype = "pretrain"\nmixture = "code=1"\nprecision = "fp32"\n'
                    'dtype = "auto"\n')
    with pytest.raises(DatacompError, match=r"p.toml:5: stage 'enc': 'precision' is the old spelling of 'dtype': "
                                            "keep one"):
        load_pipeline(path)


def test_every_renamed_key_is_a_key_of_its_stage_type():
    from datacomp.pipeline.file import DEPRECATED_KEYS
    from datacomp.pipeline.builtin import stage_types
    from datacomp.pipeline.typed import describe_fields

    for stage_type, renames in DEPRECATED_KEYS.items():
        keys = {row["key"] for row in describe_fields(stage_types()[stage_type].config_type)}
        for old, new in renames.items():
            assert new in keys and old not in keys, (stage_type, old, new)
