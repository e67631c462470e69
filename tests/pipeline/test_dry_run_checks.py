"""`datacomp run --dry-run` reports every bad value in the file, each with file:line and key, before any stage
runs: a typo in the last stage's baselines fails at once, not after the pretrain and train stages before it
(no stage ran, no model was loaded: torch was never imported)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from datacomp.compressors.registry import REGISTRY
from datacomp.config_checks import allowed_text
from datacomp.errors import DatacompError
from datacomp.evaluation.baselines import known_systems
from datacomp.pipeline import load_pipeline

PIPELINE = """\
[pipeline]
name = "typo"

[[stage]]
name = "enc"
type = "pretrain"
mixture = "code=1"
steps = {steps}

[[stage]]
name = "ae"
type = "train"
method = "{method}"
encoder = "@enc"
decoder = "@enc"
train_slice = "code"

[[stage]]
name = "eval"
type = "evaluate"
compressor = "@ae"
task = "reconstruction"
baselines = ["full", "nnone"]
"""

# the CLI in a fresh interpreter, reporting its exit code and whether torch was imported
PROBE = textwrap.dedent("""
    import json, sys
    from datacomp.cli import main
    try:
        main(sys.argv[1:])
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    print(json.dumps({"code": code, "torch": "torch" in sys.modules}))
""")

KNOWN = "known: " + allowed_text(known_systems())   # 'full', 'none', 'truncate', ..., the training-free


def test_a_typo_in_the_last_stage_fails_the_dry_run_before_anything_runs_or_loads(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(PIPELINE.format(steps=10, method="autoencoder"))
    db = tmp_path / "store" / "s.duckdb"
    done = subprocess.run([sys.executable, "-c", PROBE, "run", str(path), "--dry-run", "--db", str(db)],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "400"}, check=False)
    assert json.loads(done.stdout.splitlines()[-1]) == {"code": 2, "torch": False}, done.stderr
    assert done.stderr.strip() == f"error: {path}:23: stage 'eval': baselines 'nnone' is no baseline; {KNOWN}"
    assert not db.parent.exists()  # nothing was created: no store, no output folder


def test_every_bad_stage_is_reported_with_its_line_and_key(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(PIPELINE.format(steps=0, method="sacc"))
    with pytest.raises(DatacompError) as raised:
        load_pipeline(path)
    assert str(raised.value).splitlines() == [
        f"{path}:8: stage 'enc': steps must be positive, got 0",
        f"{path}:13: stage 'ae': method must be one of {allowed_text(REGISTRY)}, got 'sacc'",  # 'autoencoder', ...
        f"{path}:23: stage 'eval': baselines 'nnone' is no baseline; {KNOWN}",
    ]


def test_every_bad_key_of_one_stage_is_reported(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[[stage]]\nname = "s"\ntype = "score"\ncorpora = ["web"]\nmodl = "m"\nwindow = "big"\n')
    with pytest.raises(DatacompError) as raised:
        load_pipeline(path)
    assert str(raised.value).splitlines() == [
        f"{path}:5: stage 's': unknown key 'modl' (did you mean 'model'? known: corpora, encoder, decoder, model, "
        "window, stride, dtype, token_budget, shard, limit, slice, padding_slack, block_docs, chunk_elements)",
        f"{path}:6: stage 's': key 'window': expected int | null, got 'big'",
    ]


def test_a_value_from_another_stage_is_checked_when_it_is_known(tmp_path):
    """A field holding "@stage" is checked at run time; the stage's other fields are checked now."""
    path = tmp_path / "p.toml"
    path.write_text('[[stage]]\nname = "a"\ntype = "split"\nslice = "all"\n\n'
                    '[[stage]]\nname = "b"\ntype = "split"\nslice = "@a.train"\neval_fraction = "@a.n_eval"\n')
    assert load_pipeline(path).stage("b").config.eval_fraction == "@a.n_eval"
    path.write_text(path.read_text().replace('eval_fraction = "@a.n_eval"', 'eval_fraction = 0.5\n'
                                             'train_name = "@a.train"\neval_name = "@a.train"'))
    load_pipeline(path)  # the two names may turn out equal: known only once stage a ran
    path.write_text(path.read_text().replace("eval_fraction = 0.5", "eval_fraction = 2.0"))
    with pytest.raises(DatacompError, match=r"p.toml:10: stage 'b': eval_fraction must lie strictly between 0 "):
        load_pipeline(path)


def test_a_train_stage_checks_the_method_config_keys_it_sets(tmp_path):
    """Keys of method_config are the method's config fields, checked by its class (this imports the method)."""
    path = tmp_path / "p.toml"
    stage = '[[stage]]\nname = "t"\ntype = "train"\nmethod = "sac"\nratio = 2.5\nencoder = "e"\ndecoder = "e"\n'
    path.write_text(stage + 'method_config = { rank = 4 }\n')
    with pytest.raises(DatacompError) as raised:
        load_pipeline(path)
    assert str(raised.value).startswith(f"{path}:8: stage 't': method_config rank: unknown sac config key; known ")
    path.write_text(stage + 'method_config = { chunk_tokens = 0 }\n')
    with pytest.raises(DatacompError) as raised:
        load_pipeline(path)
    assert str(raised.value) == f"{path}:5: stage 't': ratio must be a whole number for sac (the anchor stride), got 2.5"
    path.write_text(stage.replace("2.5", "2") + 'method_config = { chunk_tokens = 0 }\n')
    with pytest.raises(DatacompError) as raised:
        load_pipeline(path)
    assert str(raised.value) == f"{path}:8: stage 't': method_config chunk_tokens must be positive, got 0"
