"""The restated-segment test: its rows, its two NLLs against a model with known outputs, its verdict, and the
stored results behind `datacomp models copy-test` and `models list`."""

import math

import numpy as np
import pytest
import torch

from datacomp.errors import DatacompError
from datacomp.models.copy_test import (
    CopyTest,
    CopyTestConfig,
    copy_test,
    copy_test_rows,
    reads_context,
    restated_rows,
    run_copy_test,
    segment_length,
)


@pytest.fixture(scope="module")
def tiny_lm_dir(tmp_path_factory):
    from tests.conftest import build_tiny_lm

    folder = tmp_path_factory.mktemp("tiny_lm")
    build_tiny_lm(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_lm(tiny_lm_dir):
    from datacomp.models.loading import load_causal_lm

    return load_causal_lm(tiny_lm_dir)


@pytest.fixture
def lm_store(store, tiny_lm_dir):
    """A store with the two fixture domains and the tiny LM registered: (store, model id)."""
    from datacomp.models.registry import register_model
    from tests.models.conftest import add_two_domains

    add_two_domains(store)
    return store, register_model(store, tiny_lm_dir, "tiny").model_id


class LookBackModel(torch.nn.Module):
    """A stand-in LM with known predictions: at position t it puts probability ``p`` on the token that
    followed the earlier occurrence of the current token (an ideal induction head), when the current token
    occurred before; every other token shares the rest. With no earlier occurrence: uniform."""

    def __init__(self, vocab: int, p: float):
        super().__init__()
        self.vocab, self.p = vocab, p
        self.anchor = torch.nn.Parameter(torch.zeros(1))  # a parameter, so .parameters() has a device

    def forward(self, input_ids):
        batch, length = input_ids.shape
        probs = torch.full((batch, length, self.vocab), 1.0 / self.vocab)
        for b in range(batch):
            row = input_ids[b].tolist()
            for t in range(length):
                earlier = [j for j in range(t) if row[j] == row[t]]
                if earlier and earlier[-1] + 1 < length:
                    predicted = row[earlier[-1] + 1]
                    probs[b, t] = (1 - self.p) / (self.vocab - 1)
                    probs[b, t, predicted] = self.p
        return type("Out", (), {"logits": probs.log()})()


def test_rows_are_start_segment_segment_from_consecutive_slices():
    stream = np.arange(100, 120)
    rows = restated_rows(stream, segment_tokens=4, segments=3, start_token=7)
    assert rows.tolist() == [[7, 100, 101, 102, 103, 100, 101, 102, 103],
                             [7, 104, 105, 106, 107, 104, 105, 106, 107],
                             [7, 108, 109, 110, 111, 108, 109, 110, 111]]
    assert restated_rows(stream, 4, 10, 7).shape == (5, 9)  # as many as the stream holds
    assert restated_rows(stream[:3], 4, 10, 7).shape == (0, 9)


def test_nlls_equal_the_known_predictions_of_an_ideal_copier():
    """Distinct tokens: the first reading is uniform (log V per target), the restatement (from its second
    token on) is predicted with probability p by looking back: -log p."""
    vocab, p = 50, 0.8
    rows = restated_rows(np.arange(1, 41), segment_tokens=8, segments=5, start_token=0)
    result = copy_test(LookBackModel(vocab, p), rows, batch_size=2)  # three batches: 2, 2, 1 rows
    assert result.segments == 5 and result.segment_tokens == 8
    assert result.first_nll == pytest.approx(math.log(vocab), rel=1e-5)
    assert result.restated_nll == pytest.approx(-math.log(p), rel=1e-5)
    assert result.reads_context  # 0.22 nats after 3.9
    assert copy_test(LookBackModel(vocab, p), rows[:0]) is None


def test_nlls_equal_a_per_row_recomputation_on_a_real_llama(tiny_lm):
    model, _tokenizer = tiny_lm
    rows = restated_rows(np.arange(5, 205) % 250, segment_tokens=16, segments=3, start_token=0)
    first, restated = [], []
    with torch.no_grad():
        for row in rows:
            logp = torch.log_softmax(model(input_ids=torch.tensor(row[None, :-1])).logits[0].double(), dim=-1)
            nll = [-float(logp[j, row[j + 1]]) for j in range(len(row) - 1)]
            first += nll[1:16]       # s_2..s_16 of the first reading
            restated += nll[17:]     # s_2..s_16 of the restatement
    got = copy_test(model, rows, batch_size=2)
    assert (got.first_nll, got.restated_nll) == pytest.approx((np.mean(first), np.mean(restated)), rel=1e-4)


def test_verdict_needs_a_low_restatement_cost_and_a_clear_drop():
    assert reads_context(3.88, 0.51) is True          # SmolLM2-135M-Instruct, measured
    assert reads_context(5.26, 5.04) is False         # a 2-minute reference LM
    assert reads_context(1.9, 1.4) is False           # low, but an easy text explains it, not copying
    assert reads_context(None, None) is None
    assert CopyTest(4.0, 1.5, 1, 64).reads_context is True
    assert CopyTest(4.0, 1.51, 1, 64).reads_context is False


def test_segment_length_fits_the_window():
    assert segment_length(None) == 64 and segment_length(8192) == 64
    assert segment_length(128) == 64  # input = start + 2 x 64 - 1 = 128 tokens
    assert segment_length(64) == 32


def test_run_stores_one_row_per_domain_and_a_rerun_replaces_them(lm_store):
    store, model_ref = lm_store
    config = CopyTestConfig(model=model_ref, segments=4, segment_tokens=8)
    results = run_copy_test(store, config)
    assert set(results) == {"literature", "code"}
    rows = copy_test_rows(store)
    assert len(rows) == 2
    for row in rows:
        assert row["first_nll"] == pytest.approx(results[row["domain"]].first_nll)
        assert row["segments"] == 4 and row["segment_tokens"] == 8 and row["run_id"]
    run_copy_test(store, config)
    assert len(copy_test_rows(store)) == 2
    runs = store.con.execute("SELECT count(*) FROM runs WHERE stage = 'copy_test'").fetchone()[0]
    assert runs == 2


def test_unknown_domain_is_an_error_listing_the_known(lm_store):
    store, model_ref = lm_store
    with pytest.raises(DatacompError, match=r"unknown domain\(s\) poetry \(known: code, literature\)"):
        run_copy_test(store, CopyTestConfig(model=model_ref, domains=["poetry"]))


def test_models_list_shows_the_verdict_and_copy_test_prints_it(lm_store, capsys, monkeypatch):
    import json

    from tests.cli_capture import run_main

    store, _model_id = lm_store
    db = str(store.path)
    store.close()
    code, out, err = run_main(capsys, "models", "copy-test", "tiny", "--segments", "3", "--segment-tokens", "8",
                              "--json", "--db", db)
    assert code == 0, err
    tested = json.loads(out)
    assert [r["domain"] for r in tested] == ["code", "literature"]
    assert all(r["segments"] == 3 and r["reads_context"] is False for r in tested)
    code, out, err = run_main(capsys, "models", "list", "--json", "--db", db)
    listed = json.loads(out)[0]
    assert listed["copy_test"]["first_nll"] == pytest.approx(np.mean([r["first_nll"] for r in tested]))
    assert listed["copy_test"]["reads_context"] is False
    from datacomp.cli.common import console

    monkeypatch.setattr(console, "width", 200)  # one line per row: the whole cell is readable
    code, out, err = run_main(capsys, "models", "list", "--db", db)
    verdict = f"no ({listed['copy_test']['first_nll']:.2f} -> {listed['copy_test']['restated_nll']:.2f})"
    assert "reads context" in out and verdict in out
    code, out, err = run_main(capsys, "models", "copy-test", "nosuch", "--db", db)
    assert code == 2 and "no model 'nosuch' in the store" in err


@pytest.mark.slow
def test_the_induction_warmup_teaches_a_small_model_to_read_its_context(store, tmp_path):
    """The recipe's first phase, scaled down: the toolkit's own pretraining on synthetic repeats (random tokens
    of a 64-token alphabet at a random period) forms the induction circuit in a 2-layer d=128 Llama, which then
    copies held-out random sequences it never saw: the restated-segment test passes. (~50 s on 2 cores.)"""
    from datacomp.models.architecture import ModelShape
    from datacomp.models.loading import load_causal_lm
    from datacomp.models.pretrain import PretrainConfig, pretrain
    from datacomp.models.pretrain_data import induction_alphabet
    from tests.models.conftest import add_two_domains

    add_two_domains(store)
    steps = 700
    record = pretrain(store, PretrainConfig(
        name="inductive", mixture="literature=0.5,code=0.5", out=str(tmp_path / "m"), steps=steps, batch_size=32,
        shape=ModelShape(layers=2, hidden=128, heads=4, context=64, vocab=300), learning_rate=1e-3,
        min_lr_ratio=1.0, induction_warmup_steps=steps, induction_alphabet=64, seed=0))
    model, tokenizer = load_causal_lm(record.path)
    alphabet = induction_alphabet(len(tokenizer), 64, set(tokenizer.all_special_ids), seed=0)
    held_out = np.random.default_rng(12345).choice(alphabet, size=32 * 32)   # sequences never trained on
    result = copy_test(model, restated_rows(held_out, 32, 32, tokenizer.eos_token_id))
    assert result.first_nll > 3.5            # log 64 = 4.16: the first reading is a guess
    assert result.reads_context, result      # restated <= 1.5 nats/token
