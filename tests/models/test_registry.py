"""Registering model folders and GGUF files; `datacomp models add|list`, `pretrain`, `tokenizer train`."""

import json
import subprocess
import sys

import pytest

from datacomp.cli import main
from datacomp.errors import DatacompError
from datacomp.models.adding import add_model
from datacomp.models.registry import list_models, resolve_model


def cli(capsys, *args):
    main(list(args))
    return capsys.readouterr().out


def test_registration_is_idempotent_and_ids_track_the_tokenizer(store, tiny_lm_dir, tiny_lm_pair, tmp_path):
    first = add_model(store, tiny_lm_dir, name="tiny")
    again = add_model(store, tiny_lm_dir, name="tiny")
    assert again.model_id == first.model_id and first.model_id.startswith("tiny-")
    assert [m.model_id for m in list_models(store)] == [first.model_id]
    encoder, decoder = (add_model(store, folder, name=n) for folder, n in zip(tiny_lm_pair, ("enc", "dec")))
    assert encoder.revision != decoder.revision
    assert encoder.tokenizer_id == decoder.tokenizer_id == first.tokenizer_id
    assert resolve_model(store, "enc").path == str(tiny_lm_pair[0].resolve())


def test_add_refuses_missing_paths_and_non_gguf_files(store, tmp_path):
    with pytest.raises(DatacompError, match="model path not found: .*nowhere"):
        add_model(store, tmp_path / "nowhere")
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"x")
    with pytest.raises(DatacompError, match="model.bin is a file but not a .gguf checkpoint"):
        add_model(store, weights)
    with pytest.raises(DatacompError, match="is not a model folder \\(no config.json\\)"):
        add_model(store, tmp_path)


def test_cli_add_and_list(capsys, tmp_path, tiny_lm_dir):
    db = str(tmp_path / "s.duckdb")
    added = json.loads(cli(capsys, "models", "add", str(tiny_lm_dir), "--model-name", "tiny", "--db", db, "--json"))
    listed = json.loads(cli(capsys, "models", "list", "--db", db, "--json"))
    assert [row["model_id"] for row in listed] == [added["model_id"]]
    assert listed[0]["n_params"] > 0 and listed[0]["path"] == str(tiny_lm_dir.resolve())
    assert {"name", "model_id", "path", "n_params", "tokenizer_id", "mixture"} <= set(listed[0])
    table = cli(capsys, "models", "list", "--db", db)
    assert "model_id" in table and "tiny-" in table  # rich folds long cells at the terminal width


def test_cli_pretrain_with_a_shared_tokenizer(capsys, tmp_path, corpus_store):
    db = str(corpus_store.path)
    cli(capsys, "tokenizer", "train", "--mixture", "literature=1,code=1", "--vocab", "280",
        "--out", str(tmp_path / "tok"), "--db", db)
    common = ["--layers", "1", "--hidden", "32", "--heads", "2", "--context", "32", "--steps", "3",
              "--threads", "1", "--tokenizer", str(tmp_path / "tok"), "--db", db, "--json"]
    enc = json.loads(cli(capsys, "pretrain", "--model-name", "enc", "--mixture", "literature=0.5,code=0.5",
                         "--out", str(tmp_path / "enc"), *common))
    dec = json.loads(cli(capsys, "pretrain", "--model-name", "dec", "--mixture", "code=1",
                         "--out", str(tmp_path / "dec"), *common))
    assert enc["tokenizer_id"] == dec["tokenizer_id"]
    assert dec["mixture"] == {"code": 1.0}
    assert enc["train_info"]["steps"] == 3 and enc["train_info"]["shape"]["hidden"] == 32
    assert enc["train_info"]["shape"]["vocab"] == 280  # the shared tokenizer's, not the --vocab default
    assert enc["n_params"] == enc["train_info"]["n_params"]


def test_cli_bad_mixture_is_one_line(tmp_path):
    from datacomp.store import open_store

    open_store(tmp_path / "s.duckdb").close()
    result = subprocess.run([sys.executable, "-m", "datacomp", "pretrain", "--model-name", "x", "--mixture",
                             "literature=lots", "--db", str(tmp_path / "s.duckdb")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "weight 'lots' of domain 'literature' is not a number" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_smollm2_gguf_is_dequantised_once_into_a_cached_folder(store, tmp_path, monkeypatch):
    import torch

    from datacomp.models.gguf import smollm2_gguf_path
    from datacomp.models.loading import load_causal_lm

    monkeypatch.setenv("DATACOMP_CACHE", str(tmp_path / "cache"))
    record = add_model(store, "smollm2")
    assert record.source == "gguf" and record.name == "smollm2-135m-instruct"
    assert 100_000_000 < record.n_params < 200_000_000
    assert record.path.startswith(str(tmp_path / "cache" / "models"))
    again = add_model(store, smollm2_gguf_path(), name="smollm2-135m-instruct")
    assert again.model_id == record.model_id and again.path == record.path
    model, tokenizer = load_causal_lm(record.path)
    assert "quantization_config" not in json.loads((tmp_path / record.path / "config.json").read_text())
    ids = tokenizer("The capital of France is", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        next_token = model(input_ids=ids).logits[0, -1].argmax()
    assert tokenizer.decode(next_token).strip() == "Paris"


def test_registering_again_makes_a_model_the_newest_under_its_name(store, tmp_path):
    """A name resolves to its newest registration; re-registering older weights makes them the newest again."""
    import time

    from datacomp.models.registry import register_model, resolve_model
    from tests.conftest import build_tiny_lm

    build_tiny_lm(tmp_path / "a", seed=0)
    build_tiny_lm(tmp_path / "b", seed=1)
    first = register_model(store, tmp_path / "a", "m")
    time.sleep(0.01)
    second = register_model(store, tmp_path / "b", "m")
    assert resolve_model(store, "m").model_id == second.model_id != first.model_id
    time.sleep(0.01)
    register_model(store, tmp_path / "a", "m")
    assert resolve_model(store, "m").model_id == first.model_id


def test_continuing_from_a_folder_overwritten_since_registration_is_an_error(store, tmp_path):
    import shutil

    from datacomp.errors import DatacompError
    from datacomp.models.pretrain_cache import init_weights
    from datacomp.models.registry import register_model, weights_hash
    from tests.conftest import build_tiny_lm

    build_tiny_lm(tmp_path / "a", seed=0)
    build_tiny_lm(tmp_path / "b", seed=1)
    record = register_model(store, tmp_path / "a", "m")
    assert init_weights(record) == weights_hash(tmp_path / "a")
    for weights in (tmp_path / "b").glob("*.safetensors"):
        shutil.copy(weights, tmp_path / "a" / weights.name)
    with pytest.raises(DatacompError, match=r"--init-from m: the weights in .* changed since it was registered"):
        init_weights(record)


def test_models_add_smollm2_then_model_smollm2_resolves_to_what_it_registered(capsys, tmp_path, tiny_lm_dir,
                                                                                 monkeypatch):
    """The README's flow: `models add smollm2`, then `score --model smollm2`. A tiny folder stands in for the
    packaged GGUF (dequantising the real one takes minutes); the name it registers under is the real one."""
    from cli_capture import run_main

    from datacomp.models.gguf import SHORTCUTS, SMOLLM2_NAME
    from datacomp.store import open_store

    monkeypatch.setitem(SHORTCUTS, "smollm2", (lambda: tiny_lm_dir, SMOLLM2_NAME))
    db = str(tmp_path / "s.duckdb")
    (tmp_path / "d.jsonl").write_text('{"text": "a few words to score"}\n{"text": "and a second document"}\n')
    assert run_main(capsys, "ingest", str(tmp_path / "d.jsonl"), "--corpus", "web", "--db", db)[0] == 0
    code, _, err = run_main(capsys, "score", "--corpus", "web", "--model", "smollm2", "--db", db)
    assert (code, err) == (2, "error: no model 'smollm2' in the store (known: none); register it with "
                              "`datacomp models add smollm2`")
    code, out, _ = run_main(capsys, "models", "add", "smollm2", "--db", db)
    assert code == 0 and f"refer to it as {SMOLLM2_NAME} or smollm2 (e.g. --model smollm2)" in " ".join(out.split())
    code, out, err = run_main(capsys, "score", "--corpus", "web", "--model", "smollm2", "--db", db, "--json")
    assert code == 0, err
    assert json.loads(out)["docs_scored"] == 2
    with open_store(db, read_only=True) as store:
        [model_id] = {row[0] for row in store.con.execute("SELECT model_id FROM scores").fetchall()}
        assert model_id == resolve_model(store, SMOLLM2_NAME).model_id == resolve_model(store, "smollm2").model_id
    code, _, err = run_main(capsys, "score", "--corpus", "web", "--model", "smollm3", "--db", db)
    assert (code, err) == (2, f"error: no model 'smollm3' in the store (known: {SMOLLM2_NAME}); register one with "
                              "`datacomp models add PATH`")
