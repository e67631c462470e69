"""Curriculum order and buckets, split disjointness and determinism, export file contents."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from datacomp.curation.curriculum import CurriculumConfig, build_curriculum
from datacomp.curation.export import ExportConfig, export_slice
from datacomp.curation.slices import create_slice, slice_doc_ids, slice_members
from datacomp.curation.splits import SplitConfig, split_key, split_slice
from datacomp.errors import ConfigError, DatacompError, command_line_text


@pytest.fixture
def code_store(scored_store):
    create_slice(scored_store, "all", "domain", {"domains": "code,literature,encyclopedic"})
    create_slice(scored_store, "code", "domain", {"domains": "code"})
    return scored_store


def by_id(docs):
    return {d["doc_id"]: d for d in docs}


@pytest.mark.parametrize("descending", [False, True])
def test_curriculum_orders_by_the_score(code_store, docs, descending):
    result = build_curriculum(code_store, CurriculumConfig(slice="code", name="cur", by="entropy_mean",
                                                           model="dec", descending=descending))
    code = [d for d in docs if d["domain"] == "code"]
    expected = sorted(code, key=lambda d: d["entropy_dec"], reverse=descending)
    assert result.created and slice_doc_ids(code_store, "cur") == [d["doc_id"] for d in expected]


def test_curriculum_buckets_are_equal_size_and_follow_the_order(code_store, docs):
    build_curriculum(code_store, CurriculumConfig(slice="code", name="cur", model="dec", buckets=3))
    members = slice_members(code_store, "cur")  # 20 members: buckets of 7, 7, 6
    assert Counter(m["bucket"] for m in members) == {0: 7, 1: 7, 2: 6}
    assert [m["bucket"] for m in members] == sorted(m["bucket"] for m in members)
    entropy = by_id(docs)
    last_of_0 = max(entropy[m["doc_id"]]["entropy_dec"] for m in members if m["bucket"] == 0)
    first_of_1 = min(entropy[m["doc_id"]]["entropy_dec"] for m in members if m["bucket"] == 1)
    assert last_of_0 <= first_of_1


def test_curriculum_by_length_needs_no_model(code_store, docs):
    build_curriculum(code_store, CurriculumConfig(slice="code", name="by_len", by="n_chars"))
    lengths = [by_id(docs)[doc_id]["n_chars"] for doc_id in slice_doc_ids(code_store, "by_len")]
    assert lengths == sorted(lengths) and len(lengths) == 20


def test_curriculum_refuses_unscored_members_and_bad_column(code_store):
    # The fixture's last 5 documents have no 'enc' score; two of them are in 'all'.
    with pytest.raises(DatacompError, match=r"5 of 60 members of slice 'all' have no entropy_mean under model 'enc'"):
        build_curriculum(code_store, CurriculumConfig(slice="all", name="cur", model="enc"))
    with pytest.raises(ConfigError, match=r"^by must be one of 'entropy_mean', .*'n_bytes', got 'text'$") as raised:
        CurriculumConfig(slice="all", name="cur", by="text", model="enc")  # refused as it is built
    assert raised.value.field == "by"
    with pytest.raises(ConfigError, match=r"^model is needed: by entropy_mean is a score") as raised:
        CurriculumConfig(slice="all", name="cur")
    assert (raised.value.field, command_line_text(raised.value)) == \
        ("model", "--model is needed: --by entropy_mean is a score (of which scoring model?)")


def test_curriculum_is_idempotent_and_replace_rules(code_store):
    config = CurriculumConfig(slice="code", name="cur", model="dec")
    assert build_curriculum(code_store, config).created
    assert not build_curriculum(code_store, config).created
    with pytest.raises(DatacompError, match=r"slice 'cur' already exists .*descending: False -> True"):
        build_curriculum(code_store, CurriculumConfig(slice="code", name="cur", model="dec", descending=True))


def test_split_is_disjoint_complete_and_deterministic(code_store, docs):
    train, held_out = split_slice(code_store, SplitConfig(slice="all", eval_fraction=0.2, seed=0))
    assert (train.name, held_out.name) == ("all/train", "all/eval")
    train_ids, eval_ids = set(slice_doc_ids(code_store, "all/train")), set(slice_doc_ids(code_store, "all/eval"))
    assert not train_ids & eval_ids
    assert train_ids | eval_ids == {d["doc_id"] for d in docs}
    assert len(eval_ids) == 12 and held_out.n_members == 12 and train.n_members == 48
    # Independently: eval = the 12 smallest sha256("0:<doc_id>").
    assert eval_ids == set(sorted(train_ids | eval_ids, key=lambda d: split_key(d, 0))[:12])
    # Same seed again: identical; replaced with another seed: a different eval set, still disjoint.
    assert not split_slice(code_store, SplitConfig(slice="all", eval_fraction=0.2, seed=0))[1].created
    split_slice(code_store, SplitConfig(slice="all", eval_fraction=0.2, seed=1, replace=True))
    other_eval = set(slice_doc_ids(code_store, "all/eval"))
    assert other_eval != eval_ids and not other_eval & set(slice_doc_ids(code_store, "all/train"))


def test_split_keeps_the_parent_order_and_checks_fraction(code_store):
    build_curriculum(code_store, CurriculumConfig(slice="code", name="cur", model="dec"))
    split_slice(code_store, SplitConfig(slice="cur", eval_fraction=0.25, seed=5, train_name="tr", eval_name="ev"))
    order = slice_doc_ids(code_store, "cur")
    train = slice_doc_ids(code_store, "tr")
    assert train == [d for d in order if d in set(train)] and len(slice_doc_ids(code_store, "ev")) == 5
    with pytest.raises(ConfigError, match=r"^eval_fraction must lie strictly between 0 and 1, got 1.0$"):
        SplitConfig(slice="cur", eval_fraction=1.0)


def test_export_jsonl(code_store, docs, tmp_path):
    build_curriculum(code_store, CurriculumConfig(slice="code", name="cur", model="dec", buckets=2))
    result = export_slice(code_store, ExportConfig(slice="cur", out=tmp_path / "cur.jsonl", format="jsonl"))
    lines = (tmp_path / "cur.jsonl").read_text().splitlines()
    assert result.n_rows == len(lines) == 20
    rows = [json.loads(line) for line in lines]
    truth = by_id(docs)
    assert [r["doc_id"] for r in rows] == slice_doc_ids(code_store, "cur")
    for rank, row in enumerate(rows):
        doc = truth[row["doc_id"]]
        assert row["rank"] == rank and row["text"] == doc["text"] and row["domain"] == "code"
        assert row["bucket"] == (0 if rank < 10 else 1)
        dec = [s for s in row["scores"] if s["model"] == "dec"]
        assert len(dec) == 1 and dec[0]["entropy_mean"] == pytest.approx(doc["entropy_dec"])
        assert row["gaps"][0]["js"] == pytest.approx(doc["js"])
    with pytest.raises(DatacompError, match=r"cur.jsonl already exists; pass --overwrite"):
        export_slice(code_store, ExportConfig(slice="cur", out=tmp_path / "cur.jsonl"))


def test_export_parquet_and_hf(code_store, docs, tmp_path):
    import pyarrow.parquet as pq
    from datasets import load_from_disk

    export_slice(code_store, ExportConfig(slice="code", out=tmp_path / "code.parquet", format="parquet"))
    table = pq.read_table(tmp_path / "code.parquet")
    assert table.num_rows == 20
    assert table.column("doc_id").to_pylist() == slice_doc_ids(code_store, "code")
    truth = by_id(docs)
    assert table.column("text").to_pylist() == [truth[d]["text"] for d in table.column("doc_id").to_pylist()]
    export_slice(code_store, ExportConfig(slice="code", out=tmp_path / "code_hf", format="hf"))
    dataset = load_from_disk(str(tmp_path / "code_hf"))
    assert len(dataset) == 20 and dataset[0]["doc_id"] == table.column("doc_id")[0].as_py()
    # Every scores row is exported: the fixture's stale window-32 rows too, beside the window-64 ones.
    checked = 0
    for row in dataset:
        enc = {s["window_len"]: s["entropy_mean"] for s in row["scores"] if s["model"] == "enc"}
        if 64 in enc:
            assert enc[64] == pytest.approx(truth[row["doc_id"]]["entropy_enc"])
            checked += 1
        assert enc.get(32, 99.0) == 99.0
    assert checked >= 15


def test_export_hf_overwrite_replaces_its_own_folder_and_refuses_others(code_store, tmp_path):
    from datasets import load_from_disk

    from datacomp.ownership import MARKER, folder_command

    out = tmp_path / "code_hf"
    export_slice(code_store, ExportConfig(slice="code", out=out, format="hf"))
    assert folder_command(out) == "export"
    (out / "left-over.arrow").write_bytes(b"")     # anything inside an export's own folder is its own
    export_slice(code_store, ExportConfig(slice="code", out=out, format="hf", overwrite=True))
    assert not (out / "left-over.arrow").exists() and len(load_from_disk(str(out))) == 20
    # an export made before markers existed is recognised by its names alone
    (out / MARKER).unlink()
    export_slice(code_store, ExportConfig(slice="code", out=out, format="hf", overwrite=True))
    assert folder_command(out) == "export"
    # a folder of the user's, and a model folder another command signed, are refused and kept
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "state.json").write_text("{}")
    (mine / "thesis.tex").write_text("mine")
    with pytest.raises(DatacompError, match=f"^{mine} exists and was not written by datacomp export"):
        export_slice(code_store, ExportConfig(slice="code", out=mine, format="hf", overwrite=True))
    assert sorted(p.name for p in mine.iterdir()) == ["state.json", "thesis.tex"]
    (out / MARKER).write_text(json.dumps({"written_by": "datacomp", "command": "pretrain"}))
    with pytest.raises(DatacompError, match="its .datacomp-output says datacomp pretrain"):
        export_slice(code_store, ExportConfig(slice="code", out=out, format="hf", overwrite=True))
    # refused before the run: nothing is recorded for it
    runs = code_store.con.execute("SELECT count(*) FROM runs WHERE stage = 'export'").fetchone()[0]
    assert runs == 3


def test_export_file_overwrite_replaces_a_file_of_its_format_only(code_store, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "code.parquet"
    export_slice(code_store, ExportConfig(slice="code", out=out))
    export_slice(code_store, ExportConfig(slice="code", out=out, overwrite=True))
    assert pq.read_table(out).num_rows == 20
    folder = tmp_path / "folder.parquet"
    folder.mkdir()
    (folder / "keep.txt").write_text("keep")
    with pytest.raises(DatacompError, match=f"{folder} is a folder; a parquet output replaces only a parquet file"):
        export_slice(code_store, ExportConfig(slice="code", out=folder, overwrite=True))
    assert (folder / "keep.txt").read_text() == "keep"
