"""Only what datacomp wrote is replaced: folder markers, the legacy rule, and files of the expected kind."""

from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datacomp.errors import DatacompError
from datacomp.ownership import (MARKER, check_replaceable_file, claim_folder, folder_command, mark_folder,
                                only_names, replace_folder, take_folder)


def user_folder(path):
    path.mkdir()
    (path / "notes.txt").write_text("mine")
    return path


def test_a_folder_without_the_marker_is_refused_naming_it_and_kept(tmp_path):
    folder = user_folder(tmp_path / "texts")
    with pytest.raises(DatacompError) as error:
        replace_folder(folder, "export")
    message = str(error.value)
    assert message.startswith(f"{folder} exists and was not written by datacomp export (it has no {MARKER} marker)")
    assert "\n" not in message
    assert (folder / "notes.txt").read_text() == "mine"


def test_another_commands_marker_is_not_this_commands(tmp_path):
    folder = user_folder(tmp_path / "model")
    mark_folder(folder, "pretrain")
    with pytest.raises(DatacompError, match=f"its {MARKER} says datacomp pretrain"):
        claim_folder(folder, "export")
    assert (folder / "notes.txt").exists()


def test_the_commands_own_folder_is_replaced(tmp_path):
    folder = user_folder(tmp_path / "out")
    mark_folder(folder, "export")
    stamp = json.loads((folder / MARKER).read_text())
    assert stamp["written_by"] == "datacomp" and stamp["command"] == "export" and stamp["written_at"].endswith("Z")
    assert folder_command(folder) == "export"
    replace_folder(folder, "export")
    assert not folder.exists()


def test_a_marker_that_is_not_datacomps_does_not_count(tmp_path):
    folder = user_folder(tmp_path / "out")
    (folder / MARKER).write_text(json.dumps({"command": "export"}))   # no written_by: not ours
    assert folder_command(folder) is None
    (folder / MARKER).write_text("not json")
    with pytest.raises(DatacompError, match="no .datacomp-output marker"):
        claim_folder(folder, "export")


def test_missing_and_empty_folders_are_free_and_a_file_is_not_a_folder(tmp_path):
    claim_folder(tmp_path / "new", "export")
    (tmp_path / "empty").mkdir()
    replace_folder(tmp_path / "empty", "export")
    assert not (tmp_path / "empty").exists()
    (tmp_path / "data").write_text("x")
    with pytest.raises(DatacompError, match=r"data exists and is a file, not a folder datacomp export wrote"):
        replace_folder(tmp_path / "data", "export")
    assert (tmp_path / "data").read_text() == "x"


def test_legacy_recognises_an_older_output_by_its_names_only(tmp_path):
    legacy = only_names("data-*.arrow", "state.json")
    older = tmp_path / "older"
    older.mkdir()
    (older / "data-00000-of-00001.arrow").write_bytes(b"")
    (older / "state.json").write_text("{}")
    replace_folder(older, "export", legacy=legacy)
    assert not older.exists()
    mixed = user_folder(tmp_path / "mixed")
    (mixed / "state.json").write_text("{}")
    with pytest.raises(DatacompError, match="mixed exists and was not written"):
        replace_folder(mixed, "export", legacy=legacy)


def test_take_folder_creates_and_signs_and_a_resumed_run_finds_it_its_own(tmp_path):
    folder = take_folder(tmp_path / "a" / "run", "train")
    assert folder_command(folder) == "train"
    (folder / "checkpoints").mkdir()
    take_folder(folder, "train")          # a second attempt (resume) is allowed
    with pytest.raises(DatacompError, match="says datacomp train"):
        take_folder(folder, "pretrain")


def test_files_are_replaced_only_by_their_own_format(tmp_path):
    parquet = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": [1]}), parquet)
    check_replaceable_file(parquet, "parquet")
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text('{"a": 1}\n')
    check_replaceable_file(jsonl, "jsonl")
    packed = tmp_path / "t.jsonl.gz"
    with gzip.open(packed, "wt") as handle:
        handle.write('{"a": 1}\n')
    check_replaceable_file(packed, "jsonl")
    (tmp_path / "empty.jsonl").write_text("")
    check_replaceable_file(tmp_path / "empty.jsonl", "jsonl")
    (tmp_path / "plain.jsonl.gz").write_text('{"a": 1}\n')   # not gzip, under a .gz name
    for path, fmt in ((jsonl, "parquet"), (parquet, "jsonl"), (tmp_path / "plain.jsonl.gz", "jsonl")):
        with pytest.raises(DatacompError, match=f"{path} is not a {fmt} file; --overwrite replaces only"):
            check_replaceable_file(path, fmt)
    book = tmp_path / "book.jsonl"   # datacomp's own export whose first row is a 2 MB document
    book.write_text('{"text": "' + "a" * 2_000_000 + '"}\n')
    check_replaceable_file(book, "jsonl")
    for name, text in (("essay.jsonl", "Dear diary,\n"), ("letter.jsonl", "\nDear diary,\n")):
        (tmp_path / name).write_text(text)
        with pytest.raises(DatacompError, match=f"{name} is not a jsonl file"):
            check_replaceable_file(tmp_path / name, "jsonl")
    (tmp_path / "d.parquet").mkdir()
    with pytest.raises(DatacompError, match="d.parquet is a folder; a parquet output replaces only a parquet file"):
        check_replaceable_file(tmp_path / "d.parquet", "parquet")
