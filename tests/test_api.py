"""The Python API: importable from the top-level package without loading torch, configs as dataclasses, and
the very functions the command line calls."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys

import pytest
from cli_capture import run_main

import datacomp
from datacomp import api
from datacomp.errors import DatacompError


def test_import_datacomp_is_light():
    code = ("import sys, datacomp; heavy = [m for m in ('torch', 'transformers', 'duckdb', 'typer', 'numpy') "
            "if m in sys.modules]; print(heavy, 'score' in dir(datacomp))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[] True", result.stderr


def test_every_exported_name_resolves_and_configs_are_dataclasses():
    for name in datacomp.__all__:
        value = getattr(datacomp, name)
        if name.endswith("Config") or name == "ModelShape":
            assert dataclasses.is_dataclass(value), name
        elif name[0].islower():
            assert value is getattr(api, name), name   # the API's functions, not copies
    with pytest.raises(AttributeError, match="module 'datacomp' has no attribute 'slice'"):
        datacomp.slice  # noqa: B018  (create_slice; Python's slice stays Python's)


def test_keyword_fields_build_or_replace_the_config(tmp_path):
    from datacomp.curation.splits import SplitConfig

    assert api._config(SplitConfig, None, {"slice": "s", "seed": 3}) == SplitConfig(slice="s", seed=3)
    base = SplitConfig(slice="s", eval_fraction=0.3)
    assert api._config(SplitConfig, base, {"seed": 5}) == SplitConfig(slice="s", eval_fraction=0.3, seed=5)
    with pytest.raises(TypeError, match=r"SplitConfig has no field 'fraction' \(fields: slice, eval_fraction, "):
        api.split(tmp_path / "s.duckdb", slice="s", fraction=0.3)


def test_a_store_path_is_opened_for_the_call_and_a_missing_one_refused(tmp_path):
    missing = tmp_path / "typo" / "s.duckdb"
    for call in (lambda: api.create_slice(missing, name="a", definition="corpus"),
                 lambda: api.results(missing), lambda: api.open_store(missing, read_only=True),
                 lambda: api.open_store(missing, create=False)):
        with pytest.raises(DatacompError, match=f"no store at {missing} \\(create one with datacomp ingest"):
            call()
    assert not missing.parent.exists()
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "one"}\n{"text": "two"}\n')
    db = tmp_path / "s.duckdb"
    assert api.ingest(db, [data], corpus="web").ingested == 2   # ingest creates the store
    result = api.create_slice(db, datacomp.SliceConfig(name="all", definition="corpus", params={"corpora": ["web"]}))
    assert (result.name, result.n_members, result.created) == ("all", 2, True)
    with api.open_store(db, read_only=True) as store:
        assert [row["slice_id"] for row in store.rows("curation/slice_list")] == ["all"]


def test_opening_a_store_creates_its_file_but_a_missing_folder_only_when_asked(tmp_path):
    missing = tmp_path / "nonexistent" / "dir" / "x.duckdb"
    with pytest.raises(DatacompError) as error:
        api.open_store(missing)
    assert str(error.value) == (f"cannot create store {missing}: no folder {missing.parent} (create it first, or "
                                "open_store(..., parents=True))")
    assert not (tmp_path / "nonexistent").exists()
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "one"}\n')
    with pytest.raises(DatacompError, match="no folder"):
        api.ingest(missing, [data], corpus="web")        # a path given to a function: the same rule
    assert not (tmp_path / "nonexistent").exists()
    with api.open_store(tmp_path / "x.duckdb") as store:   # the file is created in an existing folder
        assert store.schema_version > 0
    with api.open_store(missing, parents=True) as store:
        assert store.path == missing and missing.is_file()


def test_list_arguments_refuse_a_bare_string_in_every_function(tmp_path):
    """One rule (api._config): a string where a list is expected is an error naming the keyword, never read
    as a list of its characters (corpora="notes" meant the corpora 'n', 'o', ...); nothing runs first."""
    db = tmp_path / "s.duckdb"
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "one"}\n')
    api.ingest(db, [data], corpus="notes")
    calls = [
        (lambda: api.score(db, model="ref", corpora="notes"), "corpora='notes': expected a list, got one str; "
                                                               "write corpora=['notes']"),
        (lambda: api.score(db, datacomp.ScoreConfig(corpora="notes", model="ref")), "corpora='notes'"),
        (lambda: api.copy_test(db, model="ref", domains="code"), "domains='code'"),
        (lambda: api.prepare_corpora(db, domains="code"), "domains='code'"),
        (lambda: api.pretrain(db, name="m", mixture="notes=1", eval_domains="notes"), "eval_domains='notes'"),
        (lambda: api.evaluate(db, compressor="none", slice="s", baselines="full"), "baselines='full'"),
        (lambda: api.ingest(db, str(data), corpus="more"), f"paths={str(data)!r}: expected a list, got one str"),
        (lambda: api.ingest(db, data, corpus="more"), "paths=Posix"),
        (lambda: api.merge_stores(db, str(db)), "paths="),
    ]
    for call, message in calls:
        with pytest.raises(DatacompError, match=re.escape(message)):
            call()
    with api.open_store(db, read_only=True) as store:
        assert [row[0] for row in store.con.execute("SELECT stage FROM runs").fetchall()] == ["ingest"]
    assert api._config(datacomp.ScoreConfig, None, {"corpora": ["notes"], "model": "ref"}).corpora == ["notes"]


class Called(DatacompError):
    pass


# argv -> the API function it must call and the config it must pass
CALLS = [
    (["ingest", "x.jsonl", "--corpus", "web", "--text-field", "body"], "ingest",
     lambda args: args[1] == ["x.jsonl"] and args[2].corpus == "web" and args[2].text_field == "body"),
    (["corpora", "prepare", "--domain", "code", "--max-docs-per-domain", "3"], "prepare_corpora",
     lambda args: args[1].domains == ("code",) and args[1].max_docs_per_domain == 3),
    (["pretrain", "--model-name", "enc", "--mixture", "code=1", "--learning-rate", "0.02", "--hidden", "64"],
     "pretrain", lambda args: (args[1].name, args[1].learning_rate, args[1].shape.hidden) == ("enc", 0.02, 64)),
    (["models", "add", "smollm2", "--model-name", "small"], "add_model",
     lambda args: args[1] == "smollm2" and args[2]["model_name"] == "small"),
    (["score", "--corpus", "web", "--model", "m", "--window", "64"], "score",
     lambda args: (args[1].corpora, args[1].model, args[1].window) == (["web"], "m", 64)),
    (["slice", "create", "low", "--definition", "score_quantile", "-p", "model=m", "-p", "hi=0.5"], "create_slice",
     lambda args: args[1] == datacomp.SliceConfig(name="low", definition="score_quantile",
                                                  params={"model": "m", "hi": "0.5"})),
    (["curriculum", "low", "--name", "cur", "--model", "m", "--buckets", "4"], "curriculum",
     lambda args: (args[1].slice, args[1].name, args[1].buckets) == ("low", "cur", 4)),
    (["split", "low", "--eval-fraction", "0.3"], "split", lambda args: args[1].eval_fraction == 0.3),
    (["export", "low", "-o", "low.parquet"], "export", lambda args: str(args[1].out) == "low.parquet"),
    (["train", "--method", "autoencoder", "--ratio", "4", "--train-slice", "low", "--encoder", "m", "--decoder", "m",
      "--method-config", "lora_rank=4"], "train",
     lambda args: (args[1].method, args[1].method_config) == ("autoencoder", {"lora_rank": 4})),
    (["evaluate", "--compressor", "c", "--slice", "low", "--baselines", "full,none"], "evaluate",
     lambda args: (args[1].compressor, args[1].baselines) == ("c", ("full", "none"))),
    (["report", "-o", "r", "--alpha", "0.01"], "report",
     lambda args: args[1].alpha == 0.01 and str(args[2]["out"]) == "r"),
    (["store", "results"], "results", lambda args: args[1] is None),
]


@pytest.mark.parametrize("argv, function, check", CALLS, ids=[" ".join(c[0][:2]) for c in CALLS])
def test_the_command_line_calls_the_api(capsys, monkeypatch, tmp_path, argv, function, check):
    db = tmp_path / "s.duckdb"
    api.open_store(db).close()
    calls = []

    def record(*args, **kwargs):
        calls.append((*args, kwargs))
        raise Called(f"{function} called")

    monkeypatch.setattr(api, function, record)
    code, _, err = run_main(capsys, *argv, "--db", str(db))
    assert (code, err) == (2, f"error: {function} called")
    (args,) = calls
    assert isinstance(args[0], datacomp.Store)   # the store the command opened, not a path
    assert check(args), args


def test_store_results_json_is_what_the_api_returns(capsys, tmp_path):
    db = tmp_path / "s.duckdb"
    api.open_store(db).close()
    code, out, _ = run_main(capsys, "store", "results", "--db", str(db), "--json")
    assert code == 0 and json.loads(out) == api.results(db) == []
