"""`datacomp train`'s compressor folder (written only where it may, datacomp.ownership; resumable as its own) and
its id (it hashes the precision the run resolves to, not the word asked for)."""

from __future__ import annotations

import pytest
import torch

from cli_capture import run_main as run
from datacomp.compressors.training_run import TrainRunConfig, plan_training
from datacomp.models import precision


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



@pytest.fixture
def store_with_model(store, tiny_lm_dir):
    from datacomp.models.registry import register_model

    register_model(store, tiny_lm_dir, "tiny")
    return store


def compressor_id(store, dtype: str) -> str:
    config = TrainRunConfig(method="autoencoder", train_slice="demo", encoder="tiny", decoder="tiny", dtype=dtype)
    return plan_training(store, config).compressor_id


def test_auto_on_a_cpu_is_the_fp32_compressor_and_bf16_another(store_with_model, monkeypatch):
    monkeypatch.setattr(precision, "default_device", lambda: torch.device("cpu"))
    ids = {dtype: compressor_id(store_with_model, dtype) for dtype in ("auto", "fp32", "bf16", "fp16")}
    assert ids["auto"] == ids["fp32"]
    assert len({ids["fp32"], ids["bf16"], ids["fp16"]}) == 3


def test_auto_on_a_bf16_gpu_is_the_bf16_compressor_not_the_cpu_one(store_with_model, monkeypatch):
    monkeypatch.setattr(precision, "default_device", lambda: torch.device("cpu"))
    cpu_auto, bf16 = compressor_id(store_with_model, "auto"), compressor_id(store_with_model, "bf16")
    monkeypatch.setattr(precision, "default_device", lambda: torch.device("cuda"))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    gpu_auto = compressor_id(store_with_model, "auto")
    assert gpu_auto == bf16 != cpu_auto


def test_an_unknown_precision_fails_before_any_model_loads(store_with_model):
    from datacomp.errors import DatacompError

    with pytest.raises(DatacompError, match="dtype must be one of 'auto', 'bf16', 'fp16', 'fp32', got 'half'"):
        compressor_id(store_with_model, "half")


def test_sacs_new_default_layout_keeps_its_ids_where_the_layout_did_not_change(store_with_model):
    """SAC's default prompt format became "sac" (QA's official layout); on continuation it resolves to what the
    old default "auto" did, so the id is the one an earlier run stored; on qa the layout, and so the id, differ."""
    def sac_id(task: str, method_config: dict) -> str:
        config = TrainRunConfig(method="sac", train_slice="demo", encoder="tiny", decoder="tiny", task=task,
                                method_config=method_config)
        return plan_training(store_with_model, config).compressor_id

    assert sac_id("continuation", {}) == sac_id("continuation", {"prompt_format": "auto"})
    assert sac_id("span-recall", {}) != sac_id("span-recall", {"prompt_format": "auto"})
