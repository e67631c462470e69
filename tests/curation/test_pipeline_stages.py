"""The curation stage types through the runner, on the example pipeline shipped beside this test."""

from __future__ import annotations

import json
from pathlib import Path

from datacomp.curation.slices import get_slice, slice_doc_ids, slice_members
from datacomp.pipeline import run_pipeline

EXAMPLE = Path(__file__).with_name("example_pipeline.toml")


def test_example_pipeline_runs_then_skips_then_reruns_only_what_changed(scored_store, tmp_path):
    db = scored_store.path
    scored_store.close()
    first = run_pipeline(EXAMPLE, db=db)
    assert [o.status for o in first] == ["ran"] * 5
    outputs = {o.stage: o.outputs for o in first}
    assert outputs["low_entropy"] == {"ref": "low_entropy", "n_members": 27}
    assert outputs["same_size_random"]["n_members"] == 27          # "@low_entropy.n_members" resolved
    assert outputs["holdout"] == {"train": "easy_first/train", "eval": "easy_first/eval", "n_train": 20, "n_eval": 7}
    exported = Path(outputs["eval_export"]["ref"])
    assert exported.parent == db.parent / "eval_export"             # out defaults to the db's folder
    lines = [json.loads(line) for line in exported.read_text().splitlines()]

    from datacomp.store import open_store

    with open_store(db) as store:
        assert [row["doc_id"] for row in lines] == slice_doc_ids(store, "easy_first/eval")
        assert {m["bucket"] for m in slice_members(store, "easy_first")} == {0, 1, 2}
        runs_before = {name: get_slice(store, name)["run_id"] for name in ("low_entropy", "same_size_random")}

    assert [o.status for o in run_pipeline(EXAMPLE, db=db)] == ["skipped"] * 5

    changed = tmp_path / "changed.toml"
    changed.write_text(EXAMPLE.read_text().replace("buckets = 3", "buckets = 2"))
    # Same pipeline name, so the same recorded state: only the curriculum and what follows it re-run.
    outcomes = run_pipeline(changed, db=db)
    assert {o.stage: o.status for o in outcomes} == {
        "low_entropy": "skipped", "same_size_random": "skipped", "easy_first": "ran", "holdout": "ran",
        "eval_export": "ran"}
    with open_store(db) as store:
        assert {m["bucket"] for m in slice_members(store, "easy_first")} == {0, 1}
        assert {name: get_slice(store, name)["run_id"] for name in runs_before} == runs_before


def test_editing_a_user_definition_reruns_its_slice_stage(scored_store, tmp_path):
    db = scored_store.path
    scored_store.close()
    definition = tmp_path / "mine.sql"
    definition.write_text("-- param: min_chars: int = 0\nSELECT doc_id FROM documents WHERE n_chars >= $min_chars")
    pipeline = tmp_path / "mine.toml"
    pipeline.write_text(f'[[stage]]\nname = "mine"\ntype = "slice"\ndefinition = "{definition}"\n'
                        'params = { min_chars = 100 }\n')
    assert [o.status for o in run_pipeline(pipeline, db=db)] == ["ran"]
    assert [o.status for o in run_pipeline(pipeline, db=db)] == ["skipped"]
    definition.write_text(definition.read_text() + " AND domain = 'code'")
    [outcome] = run_pipeline(pipeline, db=db)
    assert outcome.status == "ran" and outcome.reason == "config changed"
