import hashlib

import numpy as np
import pytest

from datacomp.errors import DatacompError
from datacomp.models.pretrain_data import (
    MixtureSampler,
    evaluation_windows,
    is_validation,
    load_domain_texts,
    restated_row,
    token_stream,
)



def test_split_is_a_stable_fraction_of_ids():
    ids = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(4000)]
    held_out = [i for i in ids if is_validation(i, 0.1)]
    assert 300 < len(held_out) < 500
    assert held_out == [i for i in ids if is_validation(i, 0.1)]
    # a larger fraction holds out a superset: growing validation never moves a doc into training
    assert set(held_out) <= {i for i in ids if is_validation(i, 0.2)}


def test_domain_texts_are_split_disjointly_within_budget(store, add_docs):
    texts = [f"document number {i} " * 5 for i in range(200)]
    add_docs(store, "code", texts)
    add_docs(store, "literature", ["other domain"])
    split = load_domain_texts(store, "code", 0.25, max_train_chars=10**9, max_validation_chars=10**9)
    assert sorted(split.train + split.validation) == sorted(texts)
    assert not set(split.train) & set(split.validation)
    for text in split.validation:
        assert is_validation(hashlib.sha256(text.encode()).hexdigest(), 0.25)
    budget = load_domain_texts(store, "code", 0.25, max_train_chars=250, max_validation_chars=0)
    assert 0 < sum(map(len, budget.train)) < 250 + len(texts[0]) and budget.validation == []


def test_token_stream_separates_documents_with_eos():
    assert token_stream([[5, 6], [], [7]], eos_id=0).tolist() == [5, 6, 0, 0, 7, 0]


def test_sampler_is_seeded_and_follows_weights():
    streams = {"a": np.arange(100, 200), "b": np.arange(1000, 1100)}
    first = MixtureSampler(streams, {"a": 0.9, "b": 0.1}, context=8, batch_size=400, seed=3)
    second = MixtureSampler(streams, {"a": 0.9, "b": 0.1}, context=8, batch_size=400, seed=3)
    batch, rows = first.next_batch()
    again, _ = second.next_batch()
    assert np.array_equal(batch, again)
    assert batch.shape == (400, 9)
    assert 0.8 < (rows == 0).mean() < 0.97
    from_a = batch[rows == 0]
    assert ((from_a >= 100) & (from_a < 200)).all()
    assert (np.diff(batch, axis=1) == 1).all()  # windows are consecutive tokens of one stream


def test_sampler_refuses_a_domain_without_training_tokens():
    with pytest.raises(DatacompError, match="mixture domain 'b' has no training tokens"):
        MixtureSampler({"a": np.arange(50), "b": np.arange(0)}, {"a": 0.5, "b": 0.5}, 8, 4, 0)


def test_evaluation_windows_predict_every_token_but_the_first_once():
    stream = np.arange(23)
    windows = evaluation_windows(stream, context=5)
    targets = np.concatenate([w[1:] for w in windows])
    assert targets.tolist() == list(range(1, 23))
    assert max(len(w) for w in windows) == 6


def test_restated_row_repeats_one_segment_of_the_stream():
    stream = np.arange(1000, 1300)
    rng = np.random.default_rng(0)
    for _ in range(50):
        row = restated_row(stream, 33, rng)
        assert len(row) == 33
        period = next(p for p in range(1, 33) if row[p] == row[0])  # stream tokens are distinct
        assert 4 <= period <= 16
        assert (np.diff(row[:period]) == 1).all() and row[0] >= 1000  # a consecutive piece of the stream
        assert np.array_equal(row[period:], row[:33 - period])          # then the same piece again


def test_copy_fraction_rows_restate_and_zero_keeps_the_plain_batches():
    streams = {"a": np.arange(100, 400)}
    plain = MixtureSampler(streams, {"a": 1.0}, context=16, batch_size=300, seed=5).next_batch()[0]
    zero = MixtureSampler(streams, {"a": 1.0}, context=16, batch_size=300, seed=5, copy_fraction=0.0).next_batch()[0]
    assert np.array_equal(plain, zero)
    sampler = MixtureSampler(streams, {"a": 1.0}, context=16, batch_size=300, seed=5, copy_fraction=0.3)
    mixed = sampler.next_batch()[0]
    restated = ~(np.diff(mixed, axis=1) == 1).all(axis=1)  # a consecutive window never wraps back
    assert 0.2 < restated.mean() < 0.4
    assert np.array_equal(sampler.restated, restated)  # the sampler says which rows restate
    with pytest.raises(DatacompError, match="--copy-fraction must lie in"):
        MixtureSampler(streams, {"a": 1.0}, context=16, batch_size=4, seed=0, copy_fraction=1.0)


def test_synthetic_rows_repeat_a_random_segment_of_the_alphabet_at_a_random_period():
    from datacomp.models.pretrain_data import induction_alphabet, synthetic_row

    alphabet = induction_alphabet(300, 20, {0, 5}, seed=0)
    assert len(set(alphabet.tolist())) == 20 and not {0, 5} & set(alphabet.tolist())
    assert induction_alphabet(300, 20, {0, 5}, seed=0).tolist() == alphabet.tolist()
    rng = np.random.default_rng(1)
    periods = set()
    for _ in range(50):
        row = synthetic_row(alphabet, 65, 0, rng)
        assert row[0] == 0 and set(row[1:].tolist()) <= set(alphabet.tolist())
        body = row[1:]
        period = next(p for p in range(8, 33) if all(body[i] == body[i - p] for i in range(p, len(body))))
        periods.add(period)
    assert len(periods) > 10   # the offset varies: no fixed-position shortcut


def test_an_induction_warmup_counts_its_tokens_apart_from_the_domains(corpus_store, tmp_path):
    from datacomp.models.architecture import PRESETS
    from datacomp.models.pretrain import PretrainConfig, pretrain

    record = pretrain(corpus_store, PretrainConfig(
        name="warm", mixture="code=1", out=str(tmp_path / "warm"), shape=PRESETS["tiny"], steps=5, batch_size=4,
        threads=1, induction_warmup_steps=2, induction_alphabet=50))
    per_domain = record.train_info["tokens_seen_per_domain"]
    assert per_domain == {"code": 3 * 4 * 64, "(synthetic)": 2 * 4 * 64}
    assert sum(per_domain.values()) == record.train_info["tokens_seen"]
