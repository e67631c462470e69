"""Every pipeline file in pipelines/ parses, type-checks and plans (dry run) on an empty store."""

from __future__ import annotations

from pathlib import Path

import pytest

from datacomp.pipeline.runner import run_pipeline

PIPELINES = sorted((Path(__file__).resolve().parents[2] / "pipelines").glob("*.toml"))


def test_the_four_shipped_pipelines_exist():
    assert {p.stem for p in PIPELINES} >= {"quickstart", "entropy_study", "knowledge_gap_study", "curriculum", "ratio_sweep"}


@pytest.mark.parametrize("path", PIPELINES, ids=lambda p: p.stem)
def test_shipped_pipeline_plans_every_stage(path, tmp_path):
    outcomes = run_pipeline(path, db=tmp_path / "plan.duckdb", dry_run=True)
    statuses = {outcome.stage: outcome.status for outcome in outcomes}
    text = path.read_text()
    declared = [line.split("=", 1)[1].strip().strip('"') for line in text.splitlines()
                if line.startswith("name =") and "[pipeline]" not in line]
    # the first `name =` belongs to [pipeline]; every later one names a stage
    assert len(outcomes) == len(declared) - 1 and set(statuses) == set(declared[1:])
    assert set(statuses.values()) == {"would run"}
    assert outcomes[-1].type == "report"


@pytest.mark.parametrize("path", PIPELINES, ids=lambda p: p.stem)
def test_header_states_no_time_of_its_own(path):
    """Measured times are stated once, in the README's pipeline table: a header must not contradict it."""
    import re

    header = path.read_text().split("[pipeline]", 1)[0]
    assert not re.search(r"\d\s*(s|sec|seconds?|min|minutes?|h|hours?)\b", header), header
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"`pipelines/{path.name}`" in readme   # ... which has a row for it
