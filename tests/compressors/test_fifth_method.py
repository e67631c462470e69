"""The fifth method (fifth_method.py, registered by one line in tests/conftest.py) is picked up everywhere a
method is looked up: the registry-iterated tests, the CLI's choices and default task, the stored
decoder_tuned flag, and `models add --from-compressor`, which refuses it with the reason its class gives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from datacomp.errors import DatacompError

TESTS = Path(__file__).resolve().parents[1]


def test_the_registry_iterated_tests_collect_the_fifth_method():
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "compressors/test_registry.py", "compressors/test_batched_equivalence.py"],
                          cwd=TESTS, capture_output=True, text=True, timeout=300)
    ids = {line.split("::", 1)[1] for line in done.stdout.splitlines() if "::" in line and "strided" in line}
    assert ids == {"test_save_load_round_trip[strided]", "test_batched_predictions_equal_single_predictions[strided]",
                   "test_batched_loss_and_gradients_equal_the_mean_of_single_examples[strided-qa]",
                   "test_batched_loss_and_gradients_equal_the_mean_of_single_examples[strided-continuation]"}, ids


def test_the_cli_lists_it():
    from datacomp.cli import command

    (method,) = [p for p in command().commands["train"].params if p.name == "method"]
    assert method.metavar == "autoencoder|sac|comi|meanpool|strided"


def test_train_uses_its_default_task_stores_decoder_tuned_and_export_refuses_it(tmp_path, tiny_lm_pair):
    import datacomp as dc
    from datacomp.compressors.encoder_export import export_compressor_encoder

    with dc.open_store(tmp_path / "store.duckdb") as store:
        for i, text in enumerate(["Alice walked to the market on Monday and bought seven green apples. " * 3,
                                  "Bob stayed home reading a long novel about sailors crossing the sea. " * 3]):
            store.con.execute("INSERT INTO documents (doc_id, corpus, domain, text, n_chars, n_bytes, source) "
                              "VALUES ($id, 'web', 'web', $t, 1, 1, 't')", {"id": f"d{i}", "t": text})
        encoder, decoder = tiny_lm_pair
        trained = dc.train(store, method="strided", ratio=4, train_slice="web", encoder=str(encoder),
                           decoder=str(decoder), steps=2, batch_size=1, context_tokens=32)
        assert trained.task == "reconstruction"  # Strided.default_task (the base class says continuation)
        (row,) = store.rows("compressors/list")
        assert row["method"] == "strided"
        tuned = store.con.execute("SELECT decoder_tuned FROM compressors").fetchone()[0]
        assert tuned is True   # read off its LoRA decoder: no list of method names anywhere
        with pytest.raises(DatacompError, match="cannot register a strided encoder as a model: its encoder is the "
                                                "decoder's embedding table"):
            export_compressor_encoder(store, trained.compressor_id)
