"""`datacomp models add --from-compressor`: a trained encoder, LoRA merged, registered as a scoring model."""

from __future__ import annotations

import json

import pytest
import torch

from cli_capture import cli_output as cli
from datacomp.cli import main
from datacomp.errors import DatacompError

TEXTS = [
    "Alice walked to the market on Monday and bought seven green apples for her aunt who lives nearby. "
    "She paid with coins and walked back along the river before the rain started in the afternoon.",
    "Bob stayed home reading a long novel about sailors crossing the cold northern sea in winter storms. "
    "The captain kept a diary, and every page of it described the ice, the wind and the hungry crew.",
]


def cli_error(capsys, *args) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    assert exit_info.value.code == 2
    return capsys.readouterr().err.replace("\n", "")  # rich wraps long lines at 80 columns


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_lm_pair):
    """(db path, compressor id): a 1-step autoencoder trained through the CLI, then its encoder LoRA B
    weights perturbed (a 1-step update is tiny) and saved back, so merging visibly changes the weights."""
    from datacomp.compressors.registry import load_compressor, save_compressor
    from datacomp.store import open_store

    db = tmp_path_factory.mktemp("from_compressor") / "store.duckdb"
    with open_store(db) as store:
        for i, text in enumerate(TEXTS):
            store.con.execute("INSERT INTO documents (doc_id, corpus, domain, text, n_chars, n_bytes, source) "
                              "VALUES ($id, 'web', 'web', $t, 1, 1, 't')", {"id": f"d{i}", "t": text})
    encoder, decoder = tiny_lm_pair
    main(["train", "--method", "autoencoder", "--ratio", "4", "--train-slice", "web", "--encoder",
          str(encoder), "--decoder", str(decoder), "--steps", "1", "--batch-size", "1",
          "--context-tokens", "32", "--method-config", "lora_rank=4", "--db", str(db)])
    with open_store(db) as store:
        (row,) = store.rows("compressors/list")
    compressor = load_compressor(row["checkpoint"])
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, parameter in compressor.encoder.named_parameters():
            if "lora_B" in name:
                parameter.copy_(0.5 * torch.randn(parameter.shape, generator=generator))
    save_compressor(compressor, row["checkpoint"])
    return str(db), row["compressor_id"]


def test_export_merges_lora_and_registers_a_scoring_model(capsys, trained, tiny_lm_pair):
    from transformers import AutoModelForCausalLM

    from datacomp.compressors.registry import load_compressor
    from datacomp.compressors.encoder_export import export_compressor_encoder
    from datacomp.store import open_store

    db, compressor_id = trained
    with open_store(db) as store:
        record = export_compressor_encoder(store, compressor_id)
        (row,) = store.rows("compressors/get", {"compressor_id": compressor_id})
    assert record.name == f"{compressor_id}-encoder" and record.source == "compressor"
    assert record.path.endswith(f"models/{compressor_id}-encoder")
    info = record.train_info
    assert info["from_compressor"] == compressor_id and info["method"] == "autoencoder"
    assert info["lora_layers_merged"] == 4  # q_proj and v_proj of 2 layers

    exported = AutoModelForCausalLM.from_pretrained(record.path, dtype=torch.float32).eval()
    assert not any("lora" in name for name, _ in exported.named_parameters())
    base = AutoModelForCausalLM.from_pretrained(str(tiny_lm_pair[0]), dtype=torch.float32).eval()
    trained_encoder = load_compressor(row["checkpoint"]).encoder.eval()  # adapters on, unmerged
    ids = torch.tensor([[5, 17, 42, 99, 3, 250, 8, 61, 12, 7]])
    with torch.no_grad():
        want = trained_encoder(input_ids=ids).logits
        got = exported(input_ids=ids).logits
        plain = base(input_ids=ids).logits
    assert torch.allclose(got, want, atol=1e-5, rtol=0), (got - want).abs().max()
    assert (got - plain).abs().max() > 1e-2  # the merge changed the function

    # idempotent, through the library and the CLI; the list shows it
    with open_store(db) as store:
        assert export_compressor_encoder(store, compressor_id).model_id == record.model_id
        # without the recorded row the merge is redone into the same folder: same bytes, same id
        store.con.execute("DELETE FROM models WHERE model_id = $id", {"id": record.model_id})
        assert export_compressor_encoder(store, compressor_id).model_id == record.model_id
    added = json.loads(cli(capsys, "models", "add", "--from-compressor", compressor_id, "--db", db, "--json"))
    assert added["model_id"] == record.model_id and added["source"] == "compressor"
    listed = json.loads(cli(capsys, "models", "list", "--db", db, "--json"))
    assert [m["model_id"] for m in listed].count(record.model_id) == 1

    # the exported encoder scores a corpus against the base decoder (same tokenizer)
    summary = json.loads(cli(capsys, "score", "--corpus", "web", "--encoder", record.name, "--decoder",
                             str(tiny_lm_pair[1]), "--limit", "2", "--db", db, "--json"))
    assert summary["docs_scored"] == 2 and summary["tokens_scored"] > 0


def test_named_export_and_name_clash(trained, tiny_lm_pair):
    from datacomp.compressors.encoder_export import export_compressor_encoder
    from datacomp.models.registry import register_model
    from datacomp.store import open_store

    db, compressor_id = trained
    with open_store(db) as store:
        record = export_compressor_encoder(store, compressor_id, name="trained-enc")
        assert record.model_id.startswith("trained-enc-") and record.path.endswith("models/trained-enc")
        register_model(store, tiny_lm_pair[0], "base-enc")
        with pytest.raises(DatacompError, match="--model-name base-enc: a model of that name is already registered"):
            export_compressor_encoder(store, compressor_id, name="base-enc")
        with pytest.raises(DatacompError, match="--model-name 'a/b': a model name must be"):
            export_compressor_encoder(store, compressor_id, name="a/b")


def test_refusals_and_cli_errors_are_one_line(capsys, trained):
    from datacomp.compressors.encoder_export import export_compressor_encoder
    from datacomp.store import open_store

    db, compressor_id = trained
    with open_store(db) as store:
        for method in ("comi", "meanpool"):
            store.run("compressors/upsert", {
                "compressor_id": f"{method}-4x-x", "method": method, "ratio": 4.0, "encoder_id": "e",
                "decoder_id": "d", "train_slice": "web", "checkpoint": "/nowhere", "config": "{}",
                "train_info": "{}", "run_id": None, "decoder_tuned": True})
            with pytest.raises(DatacompError, match=f"cannot register a {method} encoder as a model: its encoder "
                                                    "is not a language model: it is the base LM's first m layers"):
                export_compressor_encoder(store, f"{method}-4x-x")
    err = cli_error(capsys, "models", "add", "--from-compressor", "nope", "--db", db)
    assert "--from-compressor nope: no such compressor" in err and compressor_id in err and "comi-4x-x" in err
    assert "give either PATH or --from-compressor ID, not both" in cli_error(
        capsys, "models", "add", "some/folder", "--from-compressor", compressor_id, "--db", db)
    assert "give either PATH or --from-compressor ID" in cli_error(capsys, "models", "add", "--db", db)
