"""`datacomp train`'s compressor folder: written only where it may (datacomp.ownership), resumable as its own."""

from __future__ import annotations

import pytest

from cli_capture import run_main as run


@pytest.fixture
def web_store(tmp_path):
    from datacomp.store import open_store

    db = tmp_path / "store.duckdb"
    with open_store(db) as store:
        for i in range(2):
            text = f"Document {i} tells of a walk to the market and back along the river before the rain. " * 3
            store.con.execute("INSERT INTO documents (doc_id, corpus, domain, text, n_chars, n_bytes, source) "
                              "VALUES ($id, 'web', 'web', $t, 1, 1, 't')", {"id": f"d{i}", "t": text})
    return str(db)


def _train(capsys, db, lm, out):
    return run(capsys, "train", "--method", "autoencoder", "--ratio", "4", "--train-slice", "web", "--encoder",
               str(lm), "--decoder", str(lm), "--steps", "1", "--batch-size", "1", "--context-tokens", "32",
               "--out", str(out), "--db", db, "--json")


def test_train_refuses_an_out_folder_of_the_users_and_reuses_its_own(capsys, web_store, tiny_lm_dir, tmp_path):
    from datacomp.ownership import folder_command

    mine = tmp_path / "results"
    mine.mkdir()
    (mine / "compressor.json").write_text('{"mine": true}')
    (mine / "plots.png").write_bytes(b"png")
    code, _, err = _train(capsys, web_store, tiny_lm_dir, mine)
    assert code == 2 and f"error: {mine} exists and was not written by datacomp train" in err.replace("\n", "")
    assert sorted(p.name for p in mine.iterdir()) == ["compressor.json", "plots.png"]
    assert (mine / "compressor.json").read_text() == '{"mine": true}'

    own = tmp_path / "compressor"
    code, _, _ = _train(capsys, web_store, tiny_lm_dir, own)
    assert code == 0 and folder_command(own) == "train" and (own / "trainable.safetensors").is_file()
    code, _, _ = _train(capsys, web_store, tiny_lm_dir, own)   # the same run again: its own folder
    assert code == 0
