"""Every reader: records come out with their text, locator and other fields."""

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq

from corpus_helpers import counts, identity_holds, write_jsonl
from datacomp.corpus import IngestConfig, ingest_paths


def stored(store, corpus=None):
    rows = store.con.execute(
        "SELECT text, domain, source, meta FROM documents ORDER BY source").fetchall()
    return [(t, d, s, json.loads(m)) for t, d, s, m in rows]


def test_jsonl_keeps_other_fields_in_meta_and_locates_lines(store, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "first doc", "id": 7}, {"text": "second doc", "lang": "en"}])
    summary = ingest_paths(store, [str(path)], IngestConfig(corpus="c"))
    assert (summary.read, summary.ingested) == (2, 2)
    assert stored(store) == [("first doc", "c", f"{path}:1", {"id": 7}),
                             ("second doc", "c", f"{path}:2", {"lang": "en"})]


def test_jsonl_gz(store, tmp_path):
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"text": "zipped one"}\n{"text": "zipped two"}\n'))
    summary = ingest_paths(store, [str(path)], IngestConfig(corpus="c"))
    assert summary.ingested == 2
    assert [r[0] for r in stored(store)] == ["zipped one", "zipped two"]


def test_text_field_and_domain_field(store, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"body": "alpha text", "kind": "news"}, {"body": "beta text"}])
    ingest_paths(store, [str(path)], IngestConfig(corpus="c", text_field="body", domain="web",
                                                  domain_field="kind"))
    assert [(r[0], r[1]) for r in stored(store)] == [("alpha text", "news"), ("beta text", "web")]


def test_csv_with_quoted_multiline_field(store, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('id,text\n1,"line one\nline two"\n2,plain row\n', encoding="utf-8")
    summary = ingest_paths(store, [str(path)], IngestConfig(corpus="c"))
    assert summary.ingested == 2
    assert stored(store) == [("line one\nline two", "c", f"{path}:2", {"id": "1"}),
                             ("plain row", "c", f"{path}:4", {"id": "2"})]


def test_parquet_rows(store, tmp_path):
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"text": ["p zero", "p one", "p two"], "n": [0, 1, 2]}), path)
    summary = ingest_paths(store, [str(path)], IngestConfig(corpus="c"))
    assert summary.ingested == 3
    assert [(r[0], r[2], r[3]) for r in stored(store)] == [
        ("p zero", f"{path}#0", {"n": 0}), ("p one", f"{path}#1", {"n": 1}), ("p two", f"{path}#2", {"n": 2})]


def test_folder_of_txt_and_md_recursively(store, tmp_path):
    (tmp_path / "docs" / "sub").mkdir(parents=True)
    (tmp_path / "docs" / "a.txt").write_text("text file A\r\n", encoding="utf-8")
    (tmp_path / "docs" / "sub" / "b.md").write_text("# markdown B\n", encoding="utf-8")
    (tmp_path / "docs" / ".hidden.txt").write_text("not read", encoding="utf-8")
    summary = ingest_paths(store, [str(tmp_path / "docs")], IngestConfig(corpus="c"))
    assert (summary.read, summary.ingested) == (2, 2)
    assert [(r[0], r[2]) for r in stored(store)] == [
        ("text file A", str(tmp_path / "docs" / "a.txt")), ("# markdown B", str(tmp_path / "docs" / "sub" / "b.md"))]


def test_hf_dataset_saved_to_disk(store, tmp_path):
    import datasets

    ds = datasets.Dataset.from_dict({"text": ["hf zero", "hf one"], "label": [3, 4]})
    ds.save_to_disk(str(tmp_path / "ds"))
    summary = ingest_paths(store, [str(tmp_path / "ds")], IngestConfig(corpus="c"))
    assert summary.ingested == 2
    assert [(r[0], r[2], r[3]) for r in stored(store)] == [
        ("hf zero", f"{tmp_path / 'ds'}#0", {"label": 3}), ("hf one", f"{tmp_path / 'ds'}#1", {"label": 4})]


def test_hf_dataset_dict_splits(store, tmp_path):
    import datasets

    dd = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": ["tr a", "tr b"]}),
                               "test": datasets.Dataset.from_dict({"text": ["te a"]})})
    dd.save_to_disk(str(tmp_path / "dd"))
    summary = ingest_paths(store, [str(tmp_path / "dd")], IngestConfig(corpus="c"))
    assert summary.ingested == 3
    rows = {r[0]: (r[2], r[3]) for r in stored(store)}
    assert rows["te a"] == (f"{tmp_path / 'dd'}[test]#0", {"split": "test"})
    assert rows["tr b"] == (f"{tmp_path / 'dd'}[train]#1", {"split": "train"})


def test_hub_name_offline_fails_clearly(store):
    import pytest

    from datacomp.errors import DatacompError

    with pytest.raises(DatacompError, match=r"cannot load Hugging Face dataset 'someone/data'.*offline"):
        ingest_paths(store, ["hf:someone/data:train"], IngestConfig(corpus="c"))
    assert counts(store) == {"documents": 0, "duplicates": 0, "quarantine": 0}


def test_mixed_inputs_identity(store, tmp_path):
    jsonl = write_jsonl(tmp_path / "m.jsonl", [{"text": "one"}, {"text": "two"}, {"text": "one"}, {"x": 1}],
                        [b"{broken"])
    csv_path = tmp_path / "m.csv"
    csv_path.write_text("text\ntwo\n   \nthree\n", encoding="utf-8")
    (tmp_path / "m.xyz").write_text("?")
    summary = ingest_paths(store, [str(jsonl), str(csv_path), str(tmp_path / "m.xyz")], IngestConfig(corpus="c"))
    # one two one {x} {broken  |  two ws three  |  xyz
    assert (summary.read, summary.ingested, summary.duplicates, summary.quarantined) == (9, 3, 2, 4)
    assert identity_holds(summary, store)
    assert summary.reasons == {"empty_text": 1, "invalid_json": 1, "missing_field": 1, "unsupported_format": 1}
    assert counts(store) == {"documents": 3, "duplicates": 2, "quarantine": 4}


def test_damaged_saved_dataset_is_one_unreadable_record(store, tmp_path):
    folder = tmp_path / "broken_ds"
    folder.mkdir()
    (folder / "state.json").write_text("{not json")
    summary = ingest_paths(store, [str(folder)], IngestConfig(corpus="c"))
    assert (summary.read, summary.quarantined, summary.reasons) == (1, 1, {"unreadable_file": 1})
    assert store.con.execute("SELECT locator FROM quarantine").fetchone()[0] == str(folder)
