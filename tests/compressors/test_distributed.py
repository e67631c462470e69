"""`datacomp train` under torchrun: 2 CPU processes (gloo) give the loss curve of one process with the same
global batch, to 1e-5 over the first 5 steps, and resume from their own checkpoint."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from cli_capture import run_main

from datacomp.models.registry import resolve_model
from datacomp.store import open_store

TEXTS = [f"Document {i} tells how the {word} crossed the river at dawn and came back before the evening rain."
         for i, word in enumerate(["fox", "dog", "cat", "owl", "hare", "wolf", "bear", "deer", "crow", "mole"])]


def train_args(enc, dec):
    return ["train", "--method", "sac", "--ratio", "4", "--encoder", str(enc), "--decoder", str(dec),
            "--train-slice", "demo", "--batch-size", "4", "--context-tokens", "24", "--learning-rate", "0.01",
            "--seed", "3", "--json"]


@pytest.fixture
def stores(tmp_path, tiny_lm_pair):
    base = tmp_path / "base.duckdb"
    with open_store(base) as store:
        for i, text in enumerate(TEXTS):
            store.run("scoring/fixture_document", {"doc_id": hashlib.sha256(text.encode()).hexdigest(),
                                                   "corpus": "demo", "domain": "web", "text": text,
                                                   "source": f"test:{i}"})
        for folder in tiny_lm_pair:
            resolve_model(store, folder)
    paths = {}
    for name in ("single", "ddp"):
        (tmp_path / name).mkdir()
        paths[name] = tmp_path / name / "store.duckdb"
        shutil.copy(base, paths[name])
    return paths


def test_two_processes_train_the_single_process_loss_curve_and_resume_from_their_checkpoint(
        stores, tiny_lm_pair, capsys):
    args = train_args(*tiny_lm_pair)
    code, out, err = run_main(capsys, *args, "--steps", "5", "--db", str(stores["single"]))
    assert code == 0, err
    single = json.loads(out)

    out_dir = stores["ddp"].parent / "sac"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "DATACOMP_PROGRESS": "0"}
    launch = subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         str(Path(__file__).with_name("ddp_train_worker.py")), *args, "--db", str(stores["ddp"]),
         "--out", str(out_dir)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = launch.communicate(timeout=300)
    finally:
        if launch.poll() is None:   # torchrun and its two workers: their own process group
            os.killpg(launch.pid, signal.SIGKILL)
            launch.wait()
    assert launch.returncode == 0, stderr[-3000:]
    first, resumed = (json.loads(part) for part in _json_objects(stdout))   # rank 0 prints, rank 1 does not

    info = resumed["train_info"]
    assert (info["processes"], info["backend"], info["resumed_from"]) == (2, "gloo", 3)
    assert first["train_info"]["losses"] == info["losses"][:3]
    assert info["losses"] == pytest.approx(single["train_info"]["losses"], abs=1e-5)
    assert len(info["losses"]) == 5 and len(set(info["losses"])) == 5   # a curve, not a constant
    from safetensors.torch import load_file

    ddp_params = load_file(str(out_dir / "trainable.safetensors"))
    single_params = load_file(str(Path(single["checkpoint"]) / "trainable.safetensors"))
    for name, value in single_params.items():
        torch.testing.assert_close(ddp_params[name], value, atol=1e-5, rtol=1e-4)
    with open_store(stores["ddp"], read_only=True) as store:   # rank 0 recorded both runs, once each
        runs = store.con.execute("SELECT config FROM runs WHERE stage = 'train'").fetchall()
    assert [json.loads(c)["processes"] for (c,) in runs] == [2, 2]


def _json_objects(text: str) -> list[str]:
    """The top-level JSON objects printed one after another."""
    decoder, objects, position = json.JSONDecoder(), [], 0
    while (start := text.find("{", position)) >= 0:
        value, position = decoder.raw_decode(text, start)
        objects.append(json.dumps(value))
    return objects
