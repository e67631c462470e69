"""Stage types over library configs: keys are the library's fields, renames, extras, real ingest + slice."""

from __future__ import annotations

import json

import pytest

from datacomp.errors import DatacompError
from datacomp.pipeline import load_pipeline, run_pipeline
from datacomp.pipeline.library import stage_config_class, to_library
from datacomp.pipeline.builtin import stage_types


def test_every_registered_type_has_a_config_class():
    registry = stage_types()
    assert {"prepare_corpora", "ingest", "pretrain", "add_model", "score", "train", "evaluate", "report", "slice",
            "curriculum", "split", "export"} <= set(registry)
    for name, kind in registry.items():
        assert kind.config_type.__dataclass_fields__, name


def test_renamed_field_defaults_to_the_stage_name():
    cls = stage_config_class("datacomp.models.pretrain:PretrainConfig", (("name", "model_name"),))
    assert "model_name" in cls.__dataclass_fields__ and "name" not in cls.__dataclass_fields__
    config = cls(mixture="literature=1.0")
    library = to_library("datacomp.models.pretrain:PretrainConfig", config, "enc", (("name", "model_name"),))
    assert library.name == "enc" and library.mixture == "literature=1.0"
    named = to_library("datacomp.models.pretrain:PretrainConfig", cls(mixture="code=1", model_name="dec-v2"), "dec",
                       (("name", "model_name"),))
    assert named.name == "dec-v2"


def test_library_validation_runs_when_the_file_is_read(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[[stage]]\nname = "enc"\ntype = "pretrain"\nmixture = "literature=1"\nsteps = 0\n')
    with pytest.raises(DatacompError, match=r"p.toml:5: stage 'enc': steps must be positive, got 0"):
        load_pipeline(path)
    path.write_text('[[stage]]\nname = "enc"\ntype = "pretrain"\nmixture = "literature=1"\n'
                    'shape = { layers = 2, hiden = 64 }\n')
    with pytest.raises(DatacompError, match=r"p.toml:5: stage 'enc': unknown key 'shape.hiden' "
                                            r"\(did you mean 'hidden'\?"):
        load_pipeline(path)


def test_ingest_then_slice_pipeline(tmp_path):
    data = tmp_path / "docs.jsonl"
    data.write_text("".join(json.dumps({"text": f"document number {i} " * (i + 1)}) + "\n" for i in range(12))
                    + "not json\n")
    path = tmp_path / "ingest.toml"
    path.write_text(f"""
[pipeline]
name = "ingest_demo"

[[stage]]
name = "docs"
type = "ingest"
corpus = "tiny"
domain = "prose"
paths = ["{data}"]

[[stage]]
name = "long"
type = "slice"
definition = "length_range"
params = {{ min = 100, corpus = "tiny" }}
""")
    db = tmp_path / "db.duckdb"
    outcomes = run_pipeline(path, db=db)
    out = {o.stage: o.outputs for o in outcomes}
    assert out["docs"]["ingested"] == 12 and out["docs"]["quarantined"] == 1 and out["docs"]["ref"] == ["tiny"]
    expected = sum(len(f"document number {i} " * (i + 1)) >= 100 for i in range(12))
    assert out["long"]["n_members"] == expected
    assert [o.status for o in run_pipeline(path, db=db)] == ["skipped", "skipped"]


def test_an_ingest_stage_that_stores_nothing_fails_like_datacomp_ingest(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    path = tmp_path / "p.toml"
    path.write_text(f'[[stage]]\nname = "docs"\ntype = "ingest"\ncorpus = "c"\npaths = ["{empty}"]\n')
    with pytest.raises(DatacompError, match=f"nothing ingested: {empty} is empty \\(no records\\)"):
        run_pipeline(path, db=tmp_path / "db.duckdb")


def test_an_ingest_stage_takes_domain_from_subfolder_like_the_flag(tmp_path):
    from datacomp.store import open_store

    (tmp_path / "texts" / "news").mkdir(parents=True)
    (tmp_path / "texts" / "news" / "a.txt").write_text("a news item")
    texts = tmp_path / "texts"
    path = tmp_path / "p.toml"
    path.write_text(f'[[stage]]\nname = "docs"\ntype = "ingest"\ncorpus = "c"\npaths = ["{texts}"]\n'
                    'domain_from_subfolder = true\n')
    run_pipeline(path, db=tmp_path / "db.duckdb")
    with open_store(tmp_path / "db.duckdb", read_only=True) as store:
        assert store.con.execute("SELECT domain FROM documents").fetchall() == [("news",)]


def test_add_model_stage_registers_a_folder(tmp_path, tiny_lm_dir):
    path = tmp_path / "add.toml"
    path.write_text(f'[[stage]]\nname = "tiny"\ntype = "add_model"\npath = "{tiny_lm_dir}"\nmodel_name = "tiny"\n')
    [outcome] = run_pipeline(path, db=tmp_path / "db.duckdb")
    assert outcome.outputs["ref"].startswith("tiny-") and outcome.outputs["path"] == str(tiny_lm_dir.resolve())
