"""Every stage type in one toy pipeline, with the real library functions (slow: ~2 minutes on 2 cores)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datacomp.pipeline import run_pipeline

MINI = Path(__file__).with_name("mini_pipeline.toml")


@pytest.mark.slow
def test_mini_pipeline_end_to_end_then_only_changed_stages(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the train stage's default checkpoint folder is relative to the cwd
    db = tmp_path / "mini.duckdb"
    first = run_pipeline(MINI, db=db)
    assert [o.status for o in first] == ["ran"] * 9
    outputs = {o.stage: o.outputs for o in first}
    assert outputs["score"]["model_ids"] == [outputs["enc"]["ref"], outputs["dec"]["ref"]]
    assert outputs["eval"]["n_examples"] > 0
    report = json.loads(Path(outputs["report"]["json"]).read_text())
    assert report
    changed = tmp_path / "mini.toml"
    changed.write_text(MINI.read_text().replace("steps = 3", "steps = 4"))
    again = run_pipeline(changed, db=db)
    assert [o.stage for o in again if o.status == "ran"] == ["ae", "eval", "report"]
