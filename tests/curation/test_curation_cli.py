"""The curation commands end to end through `datacomp.cli.main` (user errors: one line, exit 2)."""

from __future__ import annotations

import json


from cli_capture import run_main as run



def test_slice_commands(scored_store, capsys):
    db = str(scored_store.path)
    scored_store.close()
    code, out, _ = run(capsys, "slice", "create", "low", "--definition", "score_quantile", "-p", "model=enc",
                       "-p", "hi=0.5", "--db", db, "--json")
    assert code == 0 and json.loads(out) == {"name": "low", "n_members": 27, "created": True, "kind": "definition"}
    code, out, err = run(capsys, "slice", "create", "low", "--definition", "score_quantile", "-p", "model=enc",
                         "-p", "hi=zero", "--db", db)
    assert code == 2 and "param 'hi': expected float[0, 1], got 'zero'" in err and "Traceback" not in err
    code, out, err = run(capsys, "slice", "create", "low", "--definition", "score_quantile", "-p", "model=enc",
                         "-p", "hi=0.4", "--db", db)
    assert code == 2 and "pass --replace" in err
    code, out, _ = run(capsys, "curriculum", "low", "--model", "enc", "--buckets", "4", "--name", "cur",
                       "--db", db, "--json")
    assert code == 0 and json.loads(out)["n_members"] == 27
    code, out, _ = run(capsys, "split", "cur", "--eval-fraction", "0.25", "--db", db, "--json")
    assert code == 0 and [r["n_members"] for r in json.loads(out)] == [20, 7]
    code, out, _ = run(capsys, "slice", "list", "--db", db, "--json")
    assert [r["slice_id"] for r in json.loads(out)] == ["low", "cur", "cur/eval", "cur/train"]
    code, out, _ = run(capsys, "slice", "show", "cur", "--db", db, "--json")
    assert [b["n_docs"] for b in json.loads(out)["buckets"]] == [7, 7, 7, 6]
    code, out, _ = run(capsys, "slice", "definitions", "--json")
    assert "random_sample" in [d["definition"] for d in json.loads(out)]


def test_export_command_writes_jsonl(scored_store, capsys, tmp_path):
    db = str(scored_store.path)
    scored_store.close()
    assert run(capsys, "slice", "create", "code", "--definition", "domain", "-p", "domains=code", "--db", db)[0] == 0
    code, out, _ = run(capsys, "export", "code", "--out", str(tmp_path / "x.jsonl"), "--db", db)
    assert code == 0 and "wrote 20 documents" in out
    assert len((tmp_path / "x.jsonl").read_text().splitlines()) == 20


def test_export_format_follows_the_extension_and_one_overwrite_rule(scored_store, capsys, tmp_path):
    import gzip

    import pyarrow.parquet as pq

    db = str(scored_store.path)
    scored_store.close()
    assert run(capsys, "slice", "create", "code", "--definition", "domain", "-p", "domains=code", "--db", db)[0] == 0
    # no --format: the extension decides (parquet used to get JSON lines)
    code, out, _ = run(capsys, "export", "code", "--out", str(tmp_path / "x.parquet"), "--db", db)
    assert code == 0 and "(parquet)" in out and pq.read_table(tmp_path / "x.parquet").num_rows == 20
    code, _, _ = run(capsys, "export", "code", "--out", str(tmp_path / "x.jsonl.gz"), "--db", db)
    assert code == 0 and len(gzip.open(tmp_path / "x.jsonl.gz", "rt").read().splitlines()) == 20
    code, _, err = run(capsys, "export", "code", "--out", str(tmp_path / "x.txt"), "--db", db)
    assert code == 2 and f"error: --out {tmp_path / 'x.txt'}: unknown format; use .parquet or .jsonl (or --format)" \
        in err and not (tmp_path / "x.txt").exists()
    code, _, err = run(capsys, "export", "code", "--out", str(tmp_path / "y.parquet"), "--format", "jsonl", "--db", db)
    assert code == 2 and "the extension says parquet but --format is jsonl" in err
    assert not (tmp_path / "y.parquet").exists()
    # the same overwrite rule as `datacomp store export`
    code, _, err = run(capsys, "export", "code", "--out", str(tmp_path / "x.parquet"), "--db", db)
    assert code == 2 and f"error: {tmp_path / 'x.parquet'} already exists; pass --overwrite to replace it" in err
    code, _, _ = run(capsys, "export", "code", "--out", str(tmp_path / "x.parquet"), "--overwrite", "--db", db)
    assert code == 0


def test_export_overwrite_never_replaces_a_folder_datacomp_did_not_write(scored_store, capsys, tmp_path):
    """Issue 18: `export easy -o texts --format hf --overwrite` deleted the folder the corpus came from."""
    db = str(scored_store.path)
    scored_store.close()
    assert run(capsys, "slice", "create", "code", "--definition", "domain", "-p", "domains=code", "--db", db)[0] == 0
    texts = tmp_path / "texts"
    texts.mkdir()
    for i in range(3):
        (texts / f"doc{i}.txt").write_text(f"my text {i}")
    code, _, err = run(capsys, "export", "code", "-o", str(texts), "--format", "hf", "--overwrite", "--db", db)
    assert code == 2 and err.strip().splitlines() == [
        f"error: {texts} exists and was not written by datacomp export (it has no .datacomp-output marker); "
        "datacomp replaces only its own outputs: choose another path or move it away"]
    assert sorted(p.name for p in texts.iterdir()) == ["doc0.txt", "doc1.txt", "doc2.txt"]
    assert (texts / "doc1.txt").read_text() == "my text 1"
    # a file that is not a jsonl file is not replaced by one either
    essay = tmp_path / "essay.jsonl"
    essay.write_text("Dear diary,\n")
    code, _, err = run(capsys, "export", "code", "-o", str(essay), "--overwrite", "--db", db)
    assert code == 2 and f"error: {essay} is not a jsonl file; --overwrite replaces only an earlier jsonl output" in err
    assert essay.read_text() == "Dear diary,\n"


def test_slice_delete(scored_store, capsys):
    db = str(scored_store.path)
    scored_store.close()
    run(capsys, "slice", "create", "code", "--definition", "domain", "-p", "domains=code", "--db", db)
    run(capsys, "split", "code", "--db", db)
    code, out, _ = run(capsys, "slice", "delete", "code", "--db", db)
    assert code == 0 and "deleted slice code (20 documents)" in out and "code/eval, code/train" in " ".join(out.split())
    code, out, _ = run(capsys, "slice", "list", "--db", db, "--json")
    assert [r["slice_id"] for r in json.loads(out)] == ["code/eval", "code/train"]
    code, _, err = run(capsys, "slice", "delete", "code", "--db", db)
    assert code == 2 and "slice 'code' not found" in err


def test_an_unknown_corpus_in_a_param_is_an_error_listing_the_known(scored_store, capsys):
    db = str(scored_store.path)
    known = sorted(row["corpus"] for row in scored_store.rows("corpus/names"))
    scored_store.close()
    code, _, err = run(capsys, "slice", "create", "x", "--definition", "corpus", "-p",
                       f"corpora={known[0]},nosuch", "--db", db)
    assert (code, err) == (2, f"error: param 'corpora': unknown corpus 'nosuch'; known: {', '.join(known)}")
    code, out, _ = run(capsys, "slice", "definitions")
    assert code == 0 and "corpora: list[corpus]" in out   # a table cell is text, not rich markup
