"""`datacomp train` -> `datacomp evaluate` end to end on tiny models, in process (main(argv))."""

import json
import re

import pytest

from cli_capture import cli_output as cli
from datacomp.cli import main

TEXTS = [
    "Alice walked to the market on Monday and bought seven green apples for her aunt who lives nearby. "
    "She paid with coins and walked back along the river before the rain started in the afternoon.",
    "Bob stayed home reading a long novel about sailors crossing the cold northern sea in winter storms. "
    "The captain kept a diary, and every page of it described the ice, the wind and the hungry crew.",
    "Later that evening they met at the station and talked about the strange weather of the last week. "
    "Trains were late, the platform was crowded, and nobody knew when the next one would finally leave.",
]


@pytest.fixture
def db(store):
    for i, text in enumerate(TEXTS):
        store.con.execute("INSERT INTO documents (doc_id, corpus, domain, text, n_chars, n_bytes, source) "
                          "VALUES ($id, 'web', 'web', $t, 1, 1, 't')", {"id": f"d{i}", "t": text})
    path = store.path
    store.close()
    return str(path)


@pytest.mark.parametrize("method, task", [("autoencoder", "reconstruction"), ("meanpool", "span-recall")])
def test_train_then_evaluate_round_trip(capsys, db, tmp_path, tiny_lm_pair, method, task):
    from datacomp.store import open_store

    from pathlib import Path

    encoder, decoder = tiny_lm_pair
    # the autoencoder is saved where --out says; meanpool beside the store (the default)
    out_args = ["--out", str(tmp_path / "c"), "--method-config", "lora_rank=4", "--method-config", "decoder_lora=yes"] \
        if method == "autoencoder" else []
    out = cli(capsys, "train", "--method", method, "--ratio", "4", "--train-slice", "web", "--encoder", str(encoder),
              "--decoder", str(decoder), "--steps", "2", "--batch-size", "1", "--context-tokens", "64",
              *out_args, "--db", db)
    compressor_id = out.strip().splitlines()[-1]
    folder = tmp_path / "c" if out_args else Path(db).resolve().parent / "compressors" / compressor_id
    assert compressor_id.startswith(f"{method}-4x-")
    with open_store(db) as store:
        (row,) = store.rows("compressors/get", {"compressor_id": compressor_id})
    assert row["method"] == method and row["ratio"] == 4.0 and row["train_slice"] == "web"
    assert row["checkpoint"] == str(folder.resolve()) and (folder / "compressor.json").is_file()
    info = json.loads(row["train_info"])
    assert info["steps"] == 2 and len(info["losses"]) == 2
    config = json.loads(row["config"])
    assert config["max_context_tokens"] == 64
    # saved resolved, not "auto": evaluated in the layout it was trained in whatever "auto" later means
    assert config["prompt_format"] == "plain"
    assert json.loads((folder / "compressor.json").read_text())["config"]["prompt_format"] == "plain"
    if method == "autoencoder":  # --method-config reached the method config, typed
        assert config["lora_rank"] == 4 and config["decoder_lora"] is True

    summary = json.loads(cli(capsys, "evaluate", "--compressor", compressor_id, "--slice", "web", "--task", task,
                             "--limit", "2", "--max-new-tokens", "4", "--db", db, "--json"))
    n = summary["n_examples"]
    # both methods here tune their decoder (decoder_lora, COMI's LoRA): baselines also run through it
    systems = [compressor_id, "full", "none", "truncate", "drop", "selective", "full@tuned", "none@tuned",
               "truncate@tuned"]
    assert n >= 1 and summary["n_rows_written"] == len(systems) * n
    assert [s["system"] for s in summary["systems"]] == systems
    compressed = summary["systems"][0]
    assert compressed["method"] == method and compressed["ratio_actual"] >= 3.0
    assert set(compressed["gains_tuned"]) >= {"f1", "target_nll"}
    with open_store(db) as store:
        counts = store.con.execute("SELECT system, count(*) FROM evaluations GROUP BY system ORDER BY 1").fetchall()
        assert dict(counts) == {system: n for system in systems}
        runs = dict(store.con.execute("SELECT stage, count(*) FROM runs GROUP BY stage").fetchall())
        assert runs == {"train": 1, "evaluate": 1}

    table = cli(capsys, "evaluate", "--compressor", compressor_id, "--slice", "web", "--task", task,
                "--limit", "2", "--max-new-tokens", "4", "--db", db)
    assert "0 rows written" in table and "truncate" in table        # the re-run adds nothing


def test_evaluate_errors_are_one_line(capsys, db):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--compressor", "missing", "--slice", "web", "--db", db])
    assert exit_info.value.code == 2
    assert "no compressor 'missing' in the store" in capsys.readouterr().err


def test_evaluate_runs_only_the_chosen_baselines(capsys, db, tiny_lm_pair):
    _, decoder = tiny_lm_pair
    common = ["evaluate", "--compressor", "none", "--decoder", str(decoder), "--slice", "web", "--task",
              "reconstruction", "--limit", "2", "--max-new-tokens", "2", "--db", db]
    summary = json.loads(cli(capsys, *common, "--baselines", "none, full", "--json"))
    assert [s["system"] for s in summary["systems"]] == ["none", "full"]
    with pytest.raises(SystemExit):
        main([*common, "--baselines", "full,everything"])
    assert "error: --baselines 'everything' is no baseline; known: 'full'" in capsys.readouterr().err


def test_train_errors_are_one_line(capsys, db, tmp_path, tiny_lm_pair):
    encoder, decoder = tiny_lm_pair
    common = ["--ratio", "4", "--encoder", str(encoder), "--decoder", str(decoder), "--db", db]
    for extra, message in [(["--method", "comi", "--task", "qa"], "--qa-file is needed by task qa"),
                           (["--method", "comi", "--task", "qa", "--qa-file", str(tmp_path / "x.json")],
                            "not found: .*x.json"),
                           (["--method", "sac"], "--train-slice is required"),
                           (["--method", "zip", "--train-slice", "web"], "unknown compressor method 'zip'"),
                           (["--method", "sac", "--train-slice", "web", "--method-config", "rank=4"],
                            "--method-config rank: unknown sac config key; known keys: bidirectional"),
                           (["--method", "autoencoder", "--train-slice", "web", "--method-config", "decoder_lora=maybe"],
                            "--method-config decoder_lora='maybe': expected bool"),
                           (["--method", "sac", "--train-slice", "web", "--method-config", "lora_rank"],
                            "--method-config 'lora_rank': expected KEY=VALUE")]:
        with pytest.raises(SystemExit) as exit_info:
            main(["train", *extra, *common])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err.replace("\n", "")  # rich wraps long lines at 80 columns
        assert re.search(message, err), err
