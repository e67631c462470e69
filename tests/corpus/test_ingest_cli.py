"""The CLI: --json summary, clean errors (exit 2, naming the path), corpora list."""

import json

import pytest

from corpus_helpers import write_jsonl
from datacomp.cli import main
from cli_capture import run_main as _run


def test_ingest_json_summary_and_corpora_list(tmp_path, capsys):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "one"}, {"text": "two"}, {"text": "one"}, {"text": 3}])
    db = str(tmp_path / "s.duckdb")
    main(["ingest", str(path), "--corpus", "c", "--domain", "prose", "--db", db, "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert {k: summary[k] for k in ("corpus", "read", "ingested", "duplicates", "quarantined", "reasons")} == {
        "corpus": "c", "read": 4, "ingested": 2, "duplicates": 1, "quarantined": 1,
        "reasons": {"non_string_field": 1}}
    main(["corpora", "list", "--db", db, "--json"])
    listed = json.loads(capsys.readouterr().out)
    assert [(r["corpus"], r["domain"], r["documents"], r["characters"], r["duplicates"]) for r in listed] == [
        ("c", "prose", 2, 6, 1)]


def test_ingest_table_output(tmp_path, capsys):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "one"}, {"bad": 1}])
    main(["ingest", str(path), "--corpus", "c", "--db", str(tmp_path / "s.duckdb")])
    out = capsys.readouterr().out
    assert "missing_field" in out and "quarantined" in out


def test_missing_path_exits_2_naming_it(tmp_path, capsys):
    missing = tmp_path / "nowhere.jsonl"
    with pytest.raises(SystemExit) as exit_info:
        main(["ingest", str(missing), "--corpus", "c", "--db", str(tmp_path / "s.duckdb")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"input not found: {missing}" in err.replace("\n", "")
    assert "Traceback" not in err



def test_quarantine_reasons_print_their_first_detail_on_stderr(tmp_path, capsys):
    path = write_jsonl(tmp_path / "data.jsonl", [{"text": "kept"}, {"body": "x"}, {"body": "y"}, {"text": ""}])
    code, _, err = _run(capsys, "ingest", str(path), "--corpus", "c", "--db", str(tmp_path / "s.duckdb"))
    assert code == 0
    assert (f"quarantined 3 records: 1 empty_text (first: {path}:4: field 'text' is empty or whitespace only); "
            f"2 missing_field (first: {path}:2: field 'text' is missing (fields: body))") in err


def test_nothing_ingested_exits_2_naming_the_input_and_leaves_no_corpus(tmp_path, capsys):
    from datacomp.store import open_store

    path = write_jsonl(tmp_path / "data.jsonl", [{"contnet": "typo"}, {"contnet": "again"}, {"contnet": "x"}])
    db = str(tmp_path / "s.duckdb")
    code, _, err = _run(capsys, "ingest", str(path), "--corpus", "c", "--text-field", "content", "--db", db)
    assert code == 2
    assert (f"quarantined 3 records: missing_field (first: {path}:1: field 'content' is missing "
            "(fields: contnet))") in err
    assert f"error: nothing ingested from {path}: all 3 records read were quarantined (missing_field: 3)" in err
    with open_store(db) as store:
        assert store.con.execute("SELECT count(*) FROM corpora").fetchone()[0] == 0
        assert store.con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 3  # kept, to look at
    assert _run(capsys, "corpora", "list", "--db", db, "--json")[1].strip() == "[]"


def test_empty_file_and_folder_are_warned_about_by_name(tmp_path, capsys):
    empty_file = tmp_path / "empty.jsonl"
    empty_file.write_text("\n")
    empty_folder = tmp_path / "nothing_here"
    empty_folder.mkdir()
    good = write_jsonl(tmp_path / "good.jsonl", [{"text": "one"}])
    code, _, err = _run(capsys, "ingest", str(empty_file), str(empty_folder), str(good), "--corpus", "c",
                        "--db", str(tmp_path / "s.duckdb"))
    assert code == 0
    assert f"warning: {empty_file} is empty: no records in it" in err
    assert f"warning: {empty_folder} is empty: no records in it" in err
    assert str(good) not in err


@pytest.mark.parametrize("name, content", [
    ("empty.jsonl", b"\n"), ("empty.csv", b""), ("header_only.csv", b"text\n"), ("empty.txt", b""),
    ("blank.md", b" \n\n"), ("empty.parquet", None), ("empty_folder", None),
])
def test_an_input_that_stores_nothing_exits_2_naming_it_whatever_its_format(tmp_path, capsys, name, content):
    """One rule: an ingestion that stores nothing fails (exit 2) and names the input."""
    path = tmp_path / name
    if name.endswith(".parquet"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"text": pa.array([], pa.string())}), path)
    elif content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    db = str(tmp_path / "s.duckdb")
    code, out, err = _run(capsys, "ingest", str(path), "--corpus", "c", "--db", db)
    assert code == 2
    error = err[err.index("error: "):]
    if name.endswith((".txt", ".md")):  # one document per file: a record, with empty text
        assert error == (f"error: nothing ingested from {path}: all 1 records read were quarantined "
                         "(empty_text: 1)")
    else:
        assert error == f"error: nothing ingested: {path} is empty (no records)"
        assert "warning" not in err  # said once, by the error


@pytest.mark.parametrize("name, content", [("empty.jsonl", b""), ("empty.txt", b"")])
def test_an_empty_input_beside_stored_records_is_reported_and_fails_only_with_strict(tmp_path, capsys, name,
                                                                                      content):
    empty = tmp_path / name
    empty.write_bytes(content)
    good = write_jsonl(tmp_path / "good.jsonl", [{"text": "one"}])
    db = str(tmp_path / "s.duckdb")
    code, _, err = _run(capsys, "ingest", str(empty), str(good), "--corpus", "c", "--db", db)
    assert code == 0
    reported = (f"warning: {empty} is empty: no records in it" if name.endswith(".jsonl") else
                f"quarantined 1 record: empty_text (first: {empty}: field 'text' is empty or whitespace only)")
    assert reported in err
    code, _, err = _run(capsys, "ingest", str(empty), str(good), "--corpus", "c", "--strict", "--db", db)
    assert code == 2
    assert err.endswith(f"error: --strict: {empty} held no records" if name.endswith(".jsonl") else
                        f"error: --strict: 1 of 2 records read from {empty}, {good} were quarantined")


def test_strict_exits_2_on_any_quarantine(tmp_path, capsys):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "one"}, {"text": 3}])
    db = str(tmp_path / "s.duckdb")
    code, _, err = _run(capsys, "ingest", str(path), "--corpus", "c", "--strict", "--db", db)
    assert code == 2 and f"error: --strict: 1 of 2 records read from {path} were quarantined" in err
    clean = write_jsonl(tmp_path / "b.jsonl", [{"text": "two"}])
    assert _run(capsys, "ingest", str(clean), "--corpus", "c", "--strict", "--db", db)[0] == 0


def test_unknown_domain_field_is_an_error_naming_the_fields_present(tmp_path, capsys):
    from datacomp.store import open_store

    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "one", "topic": "a"}, {"text": "two", "id": 2}])
    db = str(tmp_path / "s.duckdb")
    code, _, err = _run(capsys, "ingest", str(path), "--corpus", "c", "--domain-field", "nosuch", "--db", db)
    assert code == 2
    assert ("error: --domain-field 'nosuch': no record has this field (checked the first 2 records); "
            "fields present: id, text, topic") in err
    with open_store(db) as store:
        assert store.rows("corpus/counts")[0] == {"documents": 0, "duplicates": 0, "quarantine": 0}
        assert store.con.execute("SELECT count(*) FROM corpora").fetchone()[0] == 0
    # a field some records have is fine: the others take the default domain
    code, out, _ = _run(capsys, "ingest", str(path), "--corpus", "c", "--domain-field", "topic", "--db", db, "--json")
    assert code == 0 and json.loads(out)["ingested"] == 2


def test_score_unknown_corpus_is_an_error_listing_the_known_and_records_no_run(tmp_path, capsys):
    from datacomp.store import open_store

    db = str(tmp_path / "s.duckdb")
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "one"}])
    assert _run(capsys, "ingest", str(path), "--corpus", "books", "--db", db)[0] == 0
    with open_store(db) as store:
        runs_before = store.con.execute("SELECT count(*) FROM runs").fetchone()[0]
    code, _, err = _run(capsys, "score", "--corpus", "nosuch", "--model", "any", "--db", db)
    assert code == 2 and "error: unknown corpus 'nosuch'; known: books" in err
    with open_store(db) as store:
        assert store.con.execute("SELECT count(*) FROM runs").fetchone()[0] == runs_before


def test_ingest_creates_the_store_with_its_folder_and_a_reading_command_creates_nothing(tmp_path, capsys):
    """`ingest --db` asks for a store there (cli.common.creating_store); `corpora list` on a typo does not."""
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "one"}])
    db = tmp_path / "new" / "dir" / "s.duckdb"
    code, _, _ = _run(capsys, "ingest", str(path), "--corpus", "c", "--db", str(db))
    assert code == 0 and db.is_file()
    typo = tmp_path / "typo" / "s.duckdb"
    code, _, err = _run(capsys, "corpora", "list", "--db", str(typo))
    assert code == 2 and f"no store at {typo}" in err and not typo.parent.exists()


def test_domain_from_subfolder_names_each_file_after_its_first_subfolder(tmp_path, capsys):
    from datacomp.store import open_store

    texts = tmp_path / "texts"
    for relative, text in [("news/a.txt", "a news item"), ("news/2024/b.txt", "an older news item"),
                           ("fiction/c.md", "once upon a time"), ("top.txt", "at the top")]:
        (texts / relative).parent.mkdir(parents=True, exist_ok=True)
        (texts / relative).write_text(text)
    (texts / "code").mkdir()
    write_jsonl(texts / "code" / "d.jsonl", [{"text": "def f(): pass"}, {"text": "x = 1", "kind": "config"}])
    lone = write_jsonl(tmp_path / "lone.jsonl", [{"text": "a file given by itself"}])
    db = str(tmp_path / "s.duckdb")
    code, _, err = _run(capsys, "ingest", str(texts), str(lone), "--corpus", "c", "--domain", "misc",
                        "--domain-field", "kind", "--domain-from-subfolder", "--db", db)
    assert (code, err) == (0, "")
    with open_store(db, read_only=True) as store:
        domains = dict(store.con.execute("SELECT text, domain FROM documents").fetchall())
    assert domains == {"a news item": "news", "an older news item": "news", "once upon a time": "fiction",
                       "def f(): pass": "code", "x = 1": "config",  # a --domain-field value wins
                       "at the top": "misc", "a file given by itself": "misc"}  # no subfolder: --domain


def test_domain_from_subfolder_without_a_folder_input_is_an_error(tmp_path, capsys):
    lone = write_jsonl(tmp_path / "lone.jsonl", [{"text": "one"}])
    code, _, err = _run(capsys, "ingest", str(lone), "--corpus", "c", "--domain-from-subfolder",
                        "--db", str(tmp_path / "s.duckdb"))
    assert (code, err) == (2, f"error: --domain-from-subfolder: none of the inputs is a folder ({lone}); it names "
                              "each file's domain after its subfolder below a folder input")
