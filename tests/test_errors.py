"""ConfigError names a field; the CLI writes it as its flag, a pipeline file as its key at that key's line."""

from __future__ import annotations

import pytest
from cli_capture import run_main

from datacomp.errors import ConfigError, command_line_text, flag_name
from datacomp.pipeline import load_pipeline


def test_each_front_end_writes_the_fields_in_its_own_words():
    error = ConfigError("tokenizer", "and {init_from} exclude each other", others=("init_from",))
    assert (error.field, str(error)) == ("tokenizer", "tokenizer and init_from exclude each other")
    assert command_line_text(error) == "--tokenizer and --init-from exclude each other"
    nested = ConfigError("hidden", "is not divisible by {heads} 4", others=("heads",)).nested("shape.")
    assert str(nested) == "shape.hidden is not divisible by shape.heads 4"
    assert command_line_text(nested) == "--hidden is not divisible by --heads 4"
    renamed = ConfigError("name", "is taken").renamed({"name": "model_name"})
    assert (str(renamed), renamed.path()) == ("model_name is taken", "model_name")


@pytest.mark.parametrize("field, many, flag", [
    ("token_budget", False, "--token-budget"), ("shape.hidden", False, "--hidden"),
    ("corpora", True, "--corpus"), ("params", True, "--param"), ("eval_domains", True, "--eval-domain"),
    ("steps", False, "--steps"),   # a plural name that is no list keeps its s
])
def test_flag_names_follow_the_naming_rule(field, many, flag):
    assert flag_name(field, many) == flag


def test_the_cli_names_the_flags_and_the_pipeline_the_keys_of_one_error(capsys, tmp_path):
    from datacomp.store import open_store

    db = tmp_path / "s.duckdb"
    open_store(db).close()
    code, _, err = run_main(capsys, "score", "--model", "m", "--db", str(db))
    assert (code, err) == (2, "error: --corpus is empty and there is no --slice: nothing to score")
    code, _, err = run_main(capsys, "pretrain", "--model-name", "x", "--mixture", "code=1", "--hidden", "30",
                            "--db", str(db))
    assert (code, err) == (2, "error: --hidden 30 is not divisible by --heads 4")
    path = tmp_path / "p.toml"
    path.write_text('[[stage]]\nname = "s"\ntype = "score"\nmodel = "m"\ncorpora = []\n')
    with pytest.raises(Exception) as raised:
        load_pipeline(path)
    assert str(raised.value) == f"{path}:5: stage 's': corpora is empty and there is no slice: nothing to score"
    path.write_text('[[stage]]\nname = "p"\ntype = "pretrain"\nmixture = "code=1"\n\nshape = { hidden = 30 }\n')
    with pytest.raises(Exception) as raised:
        load_pipeline(path)
    assert str(raised.value) == f"{path}:6: stage 'p': shape.hidden 30 is not divisible by shape.heads 4"
