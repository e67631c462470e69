"""The runner: skip on re-run, re-run a changed stage and its dependents only, references, failures."""

from __future__ import annotations

import pytest

from datacomp.errors import DatacompError
from datacomp.pipeline import PipelineError, load_pipeline, run_pipeline

DIAMOND = """
[pipeline]
name = "diamond"

[[stage]]
name = "a"
type = "fake"
value = {a}

[[stage]]
name = "b"
type = "fake"
input = "@a"          # a reference: b depends on a

[[stage]]
name = "c"
type = "fake"
after = ["a"]
value = {c}

[[stage]]
name = "d"
type = "fake"
after = ["b", "c"]
value = "@c.value"    # an int output into an int key

[[stage]]
name = "e"
type = "fake"
after = []            # independent of everything
"""


def write(tmp_path, a=1, c=3, name="p.toml"):
    path = tmp_path / name
    path.write_text(DIAMOND.format(a=a, c=c))
    return path


def statuses(outcomes):
    return {o.stage: o.status for o in outcomes}


def test_first_run_runs_everything_and_a_rerun_skips_everything(tmp_path, calls):
    db = tmp_path / "db.duckdb"
    outcomes = run_pipeline(write(tmp_path), db=db)
    assert calls == ["a", "b", "c", "d", "e"]
    assert set(statuses(outcomes).values()) == {"ran"}
    by_stage = {o.stage: o for o in outcomes}
    assert by_stage["b"].outputs["ref"] == "b=0<a=1<None>>"      # "@a" = a's ref output
    assert by_stage["d"].outputs["ref"] == "d=3<None>"           # "@c.value"
    calls.clear()
    again = run_pipeline(write(tmp_path), db=db)
    assert calls == [] and set(statuses(again).values()) == {"skipped"}
    assert {o.stage: o.outputs for o in again} == {o.stage: o.outputs for o in outcomes}


@pytest.mark.parametrize("change,expected", [
    ({"c": 4}, ["c", "d"]),                  # c and what depends on it
    ({"a": 2}, ["a", "b", "c", "d"]),        # a is upstream of all but e
])
def test_changing_one_stage_reruns_it_and_its_dependents_only(tmp_path, calls, change, expected):
    db = tmp_path / "db.duckdb"
    run_pipeline(write(tmp_path), db=db)
    calls.clear()
    outcomes = run_pipeline(write(tmp_path, **change), db=db)
    assert calls == expected
    assert [o.stage for o in outcomes if o.status == "skipped"] == [s for s in "abcde" if s not in expected]
    reasons = {o.stage: o.reason for o in outcomes}
    assert reasons[expected[0]] == "config changed"
    # Now up to date again.
    calls.clear()
    run_pipeline(write(tmp_path, **change), db=db)
    assert calls == []


def test_force_reruns_the_stage_and_its_dependents(tmp_path, calls):
    db = tmp_path / "db.duckdb"
    run_pipeline(write(tmp_path), db=db)
    calls.clear()
    outcomes = run_pipeline(write(tmp_path), db=db, force=["b"])
    assert calls == ["b", "d"]
    assert {o.stage: o.reason for o in outcomes}["d"] == "b ran"
    with pytest.raises(DatacompError, match=r"--force 'x': no stage of that name .*stages: a, b, c, d, e"):
        run_pipeline(write(tmp_path), db=db, force=["x"])


def test_dry_run_plans_without_running(tmp_path, calls):
    db = tmp_path / "db.duckdb"
    run_pipeline(write(tmp_path), db=db)
    calls.clear()
    plan = run_pipeline(write(tmp_path, c=9), db=db, dry_run=True)
    assert calls == [] and statuses(plan) == {"a": "up to date", "b": "up to date", "c": "would run",
                                             "d": "would run", "e": "up to date"}
    assert [o.stage for o in run_pipeline(write(tmp_path, c=9), db=db) if o.status == "ran"] == ["c", "d"]


def test_a_failed_stage_stops_the_pipeline_and_runs_again_next_time(tmp_path, calls):
    db = tmp_path / "db.duckdb"
    path = write(tmp_path)
    path.write_text(path.read_text().replace('name = "c"\ntype = "fake"', 'name = "c"\ntype = "fake"\nfail = true'))
    outcomes = []
    with pytest.raises(PipelineError, match=r"p.toml:\d+: stage 'c' \(fake\) failed: the fake stage was told to fail"):
        run_pipeline(path, db=db, outcomes=outcomes)
    assert statuses(outcomes) == {"a": "ran", "b": "ran", "c": "failed", "d": "not run", "e": "not run"}
    calls.clear()
    path.write_text(path.read_text().replace("fail = true", "fail = false"))
    assert [o.stage for o in run_pipeline(path, db=db) if o.status == "ran"] == ["c", "d", "e"]


def test_an_interrupted_stage_is_recorded_interrupted_and_runs_again_next_time(tmp_path, calls, monkeypatch):
    import dataclasses

    from datacomp.pipeline.registry import STAGES, StageType
    from datacomp.store import open_store

    @dataclasses.dataclass
    class Nothing:
        pass

    def interrupted(ctx, config):
        raise KeyboardInterrupt      # Ctrl-C in a library session; the CLI's Interrupted is handled alike

    monkeypatch.setitem(STAGES, "interrupted", StageType(Nothing, interrupted, "a stage stopped by Ctrl-C"))
    db = tmp_path / "db.duckdb"
    path = write(tmp_path)
    path.write_text(path.read_text().replace('name = "c"\ntype = "fake"\n', 'name = "c"\ntype = "interrupted"\n')
                    .replace("value = {c}\n".format(c=3), ""))
    outcomes = []
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(path, db=db, outcomes=outcomes)
    assert statuses(outcomes) == {"a": "ran", "b": "ran", "c": "interrupted", "d": "not run", "e": "not run"}
    assert [o.reason for o in outcomes if o.status == "not run"] == ["c interrupted", "c interrupted"]
    with open_store(db, read_only=True) as store:
        assert store.con.execute("SELECT status FROM pipeline_stages WHERE stage = 'c'").fetchone()[0] == "interrupted"
        assert store.con.execute("SELECT status, error FROM runs").fetchall() == [("interrupted", "KeyboardInterrupt: ")]
    monkeypatch.setitem(STAGES, "interrupted", StageType(Nothing, lambda ctx, config: {"value": 3}, "now it finishes"))
    again = {o.stage: (o.status, o.reason) for o in run_pipeline(path, db=db)}
    assert again["c"] == ("ran", "last run interrupted") and again["a"][0] == "skipped"


def test_stage_order_follows_dependencies(tmp_path, calls):
    path = tmp_path / "order.toml"
    path.write_text("""
[[stage]]
name = "late"
type = "fake"
input = "@early"

[[stage]]
name = "early"
type = "fake"
after = []
""")
    pipeline = load_pipeline(path)
    assert pipeline.name == "order" and [s.name for s in pipeline.stages] == ["early", "late"]
    run_pipeline(pipeline, db=tmp_path / "db.duckdb")
    assert calls == ["early", "late"]


def test_db_and_out_paths(tmp_path, calls, monkeypatch):
    from datacomp.pipeline.runner import resolve_paths

    path = tmp_path / "paths.toml"
    path.write_text('[pipeline]\nname = "x"\ndb = "out/x/store.duckdb"\n[[stage]]\nname = "a"\ntype = "fake"\n')
    pipeline = load_pipeline(path)
    assert resolve_paths(pipeline, None) == (pipeline.db, pipeline.db.parent)
    assert resolve_paths(pipeline, tmp_path / "other.duckdb") == (tmp_path / "other.duckdb", tmp_path)
    monkeypatch.chdir(tmp_path)
    run_pipeline(pipeline)
    assert (tmp_path / "out" / "x" / "store.duckdb").is_file()


def test_a_resolved_reference_must_have_the_keys_type(tmp_path, calls):
    path = tmp_path / "typed.toml"
    path.write_text('[[stage]]\nname = "a"\ntype = "fake"\nvalue = 2\n\n'
                    '[[stage]]\nname = "b"\ntype = "fake"\ninput = "@a.value"\n')
    with pytest.raises(PipelineError, match=r"typed.toml:6: stage 'b' \(fake\) failed: stage 'b': key 'input': "
                                            r"expected str \| null, got 2 \(the output '@a.value'\)"):
        run_pipeline(path, db=tmp_path / "db.duckdb")
    assert calls == ["a"]


def test_a_stage_whose_outputs_are_gone_is_not_done(tmp_path, store):
    """A finished stage whose file output was deleted, or whose slice was dropped, runs again."""
    from datacomp.curation.slices import create_slice, delete_slice
    from datacomp.pipeline.runner import outputs_gone

    report = tmp_path / "report.html"
    report.write_text("<html></html>")
    assert outputs_gone(store, "report", {"ref": str(report), "html": str(report), "n": 3}) is None
    report.unlink()
    assert outputs_gone(store, "report", {"html": str(report)}) == f"its output html ({report}) is gone"
    store.run("scoring/fixture_document", {"doc_id": "d1", "corpus": "c", "domain": "poetry", "text": "t",
                                           "source": "s"})
    create_slice(store, "poems", "domain", {"domains": ["poetry"]})
    assert outputs_gone(store, "slice", {"ref": "poems", "n_members": 1}) is None
    delete_slice(store, "poems")
    assert outputs_gone(store, "slice", {"ref": "poems"}) == "its slice 'poems' is gone"
    assert outputs_gone(store, "split", {"train": "poems/train", "eval": "poems/eval"}) == \
        "its slice 'poems/train' is gone"
    assert outputs_gone(store, "train", {"ref": "sac-4x", "compressor_id": "sac-4x"}) is None  # names, not paths
