"""Every quarantine reason, from bad input built here, with its locator; the summary identity holds."""

import gzip

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_helpers import counts, identity_holds, write_jsonl
from datacomp.corpus import IngestConfig, ingest_paths


def quarantined(store):
    return store.con.execute(
        "SELECT locator, reason, detail, excerpt FROM quarantine ORDER BY quarantine_id").fetchall()


def run(store, paths, **config):
    before = counts(store)
    summary = ingest_paths(store, [str(p) for p in paths], IngestConfig(corpus="q", **config))
    assert identity_holds(summary, store, before)
    return summary


def test_jsonl_reasons_one_per_line(store, tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [
        {"text": "good record"},  # 1
        {"body": "no text key"},  # 2
        {"text": 42},             # 3
        {"text": " \t\n "},       # 4
        {"text": "x" * 51},       # 5
        {"text": None},           # 6
    ], raw_lines=[b'{"text": "unterminated', b'["a", "list"]', b'{"text": "caf\xe9 latin-1"}'])  # 7 8 9
    summary = run(store, [path], max_chars=50)
    assert (summary.read, summary.ingested, summary.quarantined) == (9, 1, 8)
    rows = quarantined(store)
    assert [(loc, reason) for loc, reason, _, _ in rows] == [
        (f"{path}:2", "missing_field"), (f"{path}:3", "non_string_field"), (f"{path}:4", "empty_text"),
        (f"{path}:5", "too_long"), (f"{path}:6", "missing_field"), (f"{path}:7", "invalid_json"),
        (f"{path}:8", "invalid_json"), (f"{path}:9", "invalid_utf8")]
    details = {loc: detail for loc, _, detail, _ in rows}
    assert "'text' is missing (fields: body)" in details[f"{path}:2"]
    assert "'text' is int" in details[f"{path}:3"]
    assert "51 characters, over the limit of 50" in details[f"{path}:5"]
    assert "'text' is null" in details[f"{path}:6"]
    assert "expected a JSON object, got list" in details[f"{path}:8"]
    assert "byte 13" in details[f"{path}:9"]
    # json's own message ends in "at" (the line's newline inside the string): no second "at"
    assert details[f"{path}:7"] == "Invalid control character at column 23"


def test_json_error_positions_read_as_one_phrase(store, tmp_path):
    path = write_jsonl(tmp_path / "b.jsonl", [], raw_lines=[b'{"text": "a" "b"}', b'{"text": }'])
    run(store, [path])
    assert [detail for _, _, detail, _ in quarantined(store)] == [
        "Expecting ',' delimiter at column 14", "Expecting value at column 10"]


def test_too_long_counts_normalised_characters(store, tmp_path):
    # 10 characters once \r\n becomes \n (11 before): fits 10, not 9
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "abcd\r\nefgh!"}])
    assert run(store, [path], max_chars=9).reasons == {"too_long": 1}
    assert run(store, [path], max_chars=10).ingested == 1


def test_parquet_int_text_column(store, tmp_path):
    path = tmp_path / "ints.parquet"
    pq.write_table(pa.table({"text": [1, 2, 3]}), path)
    summary = run(store, [path])
    assert (summary.read, summary.quarantined, summary.reasons) == (3, 3, {"non_string_field": 3})
    assert [r[0] for r in quarantined(store)] == [f"{path}#0", f"{path}#1", f"{path}#2"]


def test_parquet_missing_column_and_nulls(store, tmp_path):
    no_text = tmp_path / "other.parquet"
    pq.write_table(pa.table({"body": ["a", "b"]}), no_text)
    nulls = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"text": ["kept text", None]}), nulls)
    summary = run(store, [no_text, nulls])
    assert (summary.read, summary.ingested, summary.reasons) == (4, 1, {"missing_field": 3})


def test_corrupt_parquet_is_one_unreadable_record(store, tmp_path):
    good = tmp_path / "good.parquet"
    pq.write_table(pa.table({"text": ["a b c"] * 5}), good)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(good.read_bytes()[:40] + b"\x00garbage\x00" + b"PAR1")
    summary = run(store, [broken])
    assert (summary.read, summary.quarantined, summary.reasons) == (1, 1, {"unreadable_file": 1})
    assert quarantined(store)[0][0] == str(broken)


def test_corrupt_gzip(store, tmp_path):
    not_gzip = tmp_path / "plain.jsonl.gz"
    not_gzip.write_bytes(b'{"text": "not compressed"}\n')
    truncated = tmp_path / "cut.jsonl.gz"
    lines = b"".join(b'{"text": "record %d with some words"}\n' % i for i in range(2000))
    truncated.write_bytes(gzip.compress(lines)[:-200])
    summary = run(store, [not_gzip, truncated])
    assert summary.reasons == {"unreadable_file": 2}
    assert 0 < summary.ingested < 2000
    locators = [r[0] for r in quarantined(store)]
    assert locators[0] == str(not_gzip)
    assert locators[1] == f"{truncated}:{summary.ingested + 1}"  # the line where reading broke


def test_csv_missing_column_non_utf8_row_and_empty_cell(store, tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"id,text\n1,fine row\n2,caf\xe9\n3,\n4\n")
    summary = run(store, [path])
    assert (summary.read, summary.ingested) == (4, 1)
    assert [(r[0], r[1]) for r in quarantined(store)] == [
        (f"{path}:3", "invalid_utf8"), (f"{path}:4", "empty_text"), (f"{path}:5", "missing_field")]
    other = tmp_path / "b.csv"
    other.write_text("id,body\n1,x\n2,y\n", encoding="utf-8")
    summary = run(store, [other])
    assert summary.reasons == {"missing_field": 2}
    assert "'text' is missing (fields: body, id)" in quarantined(store)[-1][2]


def test_txt_invalid_utf8_quarantines_the_file(store, tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "ok.txt").write_text("readable", encoding="utf-8")
    (tmp_path / "d" / "latin.txt").write_bytes("na\u00efve".encode("latin-1"))
    summary = run(store, [tmp_path / "d"])
    assert (summary.read, summary.ingested, summary.reasons) == (2, 1, {"invalid_utf8": 1})
    assert quarantined(store)[0][:2] == (str(tmp_path / "d" / "latin.txt"), "invalid_utf8")


def test_unreadable_file(store, tmp_path, monkeypatch):
    from pathlib import Path

    path = tmp_path / "secret.txt"
    path.write_text("x")
    original = Path.read_bytes

    def deny(self):
        if self.name == "secret.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    summary = run(store, [path])
    assert summary.reasons == {"unreadable_file": 1}
    assert "Permission denied" in quarantined(store)[0][2]


def test_unsupported_format(store, tmp_path):
    path = tmp_path / "table.xlsx"
    path.write_bytes(b"PK\x03\x04")
    summary = run(store, [path])
    assert summary.reasons == {"unsupported_format": 1}
    assert "no reader for 'table.xlsx'" in quarantined(store)[0][2]


@pytest.mark.parametrize("max_chars", [0, -5])
def test_bad_max_chars_is_a_clear_error(store, tmp_path, max_chars):
    from datacomp.errors import DatacompError

    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    with pytest.raises(DatacompError, match="^max_chars must be at least 1"):
        ingest_paths(store, [str(path)], IngestConfig(corpus="q", max_chars=max_chars))


def test_lone_surrogate_escape_and_deep_nesting_are_quarantined_lines_not_a_crash(store, tmp_path):
    path = write_jsonl(tmp_path / "odd.jsonl", [{"text": "good record"}], raw_lines=[
        b'{"text": "a\\ud800b"}',                       # 2: valid JSON, not valid Unicode text
        b'{"text": "ok", "meta": "\\udc00"}',           # 3: the surrogate hides in another field
        b'{"text": "x", "a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # 4: too deep for the parser
        b'{"text": "after the bad lines"}',             # 5
    ])
    summary = run(store, [path])
    assert (summary.read, summary.ingested, summary.quarantined) == (5, 2, 3)
    rows = quarantined(store)
    assert [(loc, reason) for loc, reason, _, _ in rows] == [
        (f"{path}:2", "invalid_utf8"), (f"{path}:3", "invalid_utf8"), (f"{path}:4", "invalid_json")]
    assert "lone surrogate" in rows[0][2] and "nested too deeply" in rows[2][2]


def test_symlinked_subfolder_is_read_and_a_loop_is_reported(store, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "b.txt").write_text("text in a linked folder")
    folder = tmp_path / "fold"
    folder.mkdir()
    (folder / "a.txt").write_text("text in the folder itself")
    (folder / "linked").symlink_to(outside, target_is_directory=True)
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    summary = run(store, [folder])
    texts = sorted(row[0] for row in store.con.execute("SELECT text FROM documents").fetchall())
    assert texts == ["text in a linked folder", "text in the folder itself"]
    assert summary.ingested == 2 and summary.quarantined == 1
    (locator, reason, detail, _), = quarantined(store)
    assert locator == str(folder / "loop") and reason == "unreadable_file" and "symlink loop" in detail
