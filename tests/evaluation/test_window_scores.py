"""The evaluated windows' predictors (window_scores, schema 008) against a hand computation: each example's
context tokens after one BOS, every token scored once, under the encoder and the plain decoder."""

import math

import pytest
import torch

from datacomp.compressors.tasks import TaskDataConfig, document_examples, encode
from datacomp.evaluation.runner import EvalConfig, EvalSetup, run_evaluation

from test_runner import TEXTS, EveryRthToken


def _by_hand(model, bos, ids):
    """Per-token entropy, surprisal and log-probs of [BOS] + ids, with plain torch."""
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([[bos, *ids]])).logits[0, :-1].double()
    logp = torch.log_softmax(logits, dim=-1)
    entropy = -(logp.exp() * logp).sum(-1)
    surprisal = -logp[torch.arange(len(ids)), torch.tensor(ids)]
    return entropy, surprisal, logp


def _setup(model, tokenizer, decoder_id, encoder_id, encoder_lm=None, context_tokens=24):
    config = TaskDataConfig(task="continuation", context_tokens=context_tokens, min_context_tokens=8,
                            continuation_tokens=8)
    data = document_examples([(f"doc{i}", text) for i, text in enumerate(TEXTS)], tokenizer, config)
    return EvalSetup(decoder=model, tokenizer=tokenizer, decoder_id=decoder_id, examples=data.examples,
                     context_tokens=context_tokens, ratio=4.0, eval_slice="web",
                     compressor=EveryRthToken(model, tokenizer, 4, context_tokens), compressor_id="every-rth-4x",
                     method="every-rth", skipped=data.skipped, encoder_id=encoder_id, encoder_lm=encoder_lm)


def _rows(store):
    return {r["example_id"]: r for r in store.con.execute("SELECT * FROM window_scores").df().to_dict("records")}


def test_one_model_windows_match_a_hand_computation_and_are_not_rescored(store, tiny_lm_dir):
    from datacomp.models.loading import load_causal_lm

    model, tokenizer = load_causal_lm(tiny_lm_dir)
    model.requires_grad_(False)
    setup = _setup(model, tokenizer, "tiny", "tiny")
    config = EvalConfig(compressor="every-rth-4x", task="continuation", max_new_tokens=2, baselines=("full", "none"))
    run_evaluation(store, config, setup)
    rows = _rows(store)
    assert set(rows) == {e.example_id for e in setup.examples}
    for example in setup.examples:
        ids = encode(tokenizer, example.context)[:24]
        entropy, surprisal, _ = _by_hand(model, tokenizer.bos_token_id, ids)
        row = rows[example.example_id]
        n_bytes = len(tokenizer.decode(ids).encode("utf-8"))
        assert (row["n_tokens"], row["n_bytes"], row["doc_id"]) == (len(ids), n_bytes, example.doc_id)
        assert row["dec_entropy"] == pytest.approx(entropy.mean().item(), rel=1e-5)
        assert row["dec_surprisal"] == pytest.approx(surprisal.mean().item(), rel=1e-5)
        assert row["dec_bits_per_byte"] == pytest.approx(surprisal.sum().item() / math.log(2) / n_bytes, rel=1e-5)
        # one model as encoder and decoder: the same numbers, and no gap
        assert row["enc_entropy"] == row["dec_entropy"] and row["js"] == 0.0
    run = store.con.execute("SELECT counts FROM runs WHERE stage = 'evaluate' ORDER BY started_at").fetchall()
    run_evaluation(store, config, setup)
    again = store.con.execute("SELECT counts FROM runs WHERE stage = 'evaluate' ORDER BY started_at").fetchall()
    assert '"windows_scored": 0' in again[-1][0] and '"windows_scored": 0' not in run[0][0]
    assert store.con.execute("SELECT count(*) FROM window_scores").fetchone()[0] == len(rows)


def test_encoder_and_decoder_with_one_tokenizer_give_the_gap_by_hand(store, tiny_lm_pair):
    from datacomp.models.loading import load_causal_lm
    from datacomp.models.registry import register_model

    encoder_dir, decoder_dir = tiny_lm_pair
    encoder_id = register_model(store, encoder_dir, name="enc").model_id
    decoder_id = register_model(store, decoder_dir, name="dec").model_id
    decoder, tokenizer = load_causal_lm(decoder_dir)
    encoder, encoder_tokenizer = load_causal_lm(encoder_dir)
    decoder.requires_grad_(False)
    setup = _setup(decoder, tokenizer, decoder_id, encoder_id, encoder_lm=(encoder, encoder_tokenizer))
    run_evaluation(store, EvalConfig(compressor="every-rth-4x", task="continuation", max_new_tokens=2,
                                     baselines=("full", "none")), setup)
    rows = _rows(store)
    for example in setup.examples:
        ids = encode(tokenizer, example.context)[:24]
        enc_entropy, enc_surprisal, logp = _by_hand(encoder, tokenizer.bos_token_id, ids)
        dec_entropy, _, logq = _by_hand(decoder, tokenizer.bos_token_id, ids)
        p, q = logp.exp(), logq.exp()
        m = (p + q) / 2
        kl_pq = (p * (logp - logq)).sum(-1)
        kl_qp = (q * (logq - logp)).sum(-1)
        js = 0.5 * (p * (logp - m.log())).sum(-1) + 0.5 * (q * (logq - m.log())).sum(-1)
        row = rows[example.example_id]
        assert (row["encoder_id"], row["decoder_id"]) == (encoder_id, decoder_id)
        assert row["enc_entropy"] == pytest.approx(enc_entropy.mean().item(), rel=1e-5)
        assert row["enc_surprisal"] == pytest.approx(enc_surprisal.mean().item(), rel=1e-5)
        assert row["dec_entropy"] == pytest.approx(dec_entropy.mean().item(), rel=1e-5)
        assert row["kl_enc_dec"] == pytest.approx(kl_pq.mean().item(), rel=1e-4)
        assert row["kl_dec_enc"] == pytest.approx(kl_qp.mean().item(), rel=1e-4)
        assert row["js"] == pytest.approx(js.mean().item(), rel=1e-4)
        assert row["enc_entropy"] != row["dec_entropy"]


def test_windows_under_the_trained_encoder_match_a_hand_computation(store, tiny_lm_pair):
    """A compressor with a trained encoder LM: its windows are scored under it too (tenc_*, schema 010);
    one without (the plain fake) leaves those columns NULL."""
    from datacomp.models.loading import load_causal_lm

    _encoder_dir, decoder_dir = tiny_lm_pair
    decoder, tokenizer = load_causal_lm(decoder_dir)
    trained, _ = load_causal_lm(_encoder_dir)   # stands in for an encoder after training: sharper than the
    with torch.no_grad():                        # near-uniform random decoder
        trained.get_output_embeddings().weight.mul_(20.0)
    decoder.requires_grad_(False)
    setup = _setup(decoder, tokenizer, "dec", "dec")
    setup.compressor.trained_encoder_lm = lambda: trained
    run_evaluation(store, EvalConfig(compressor="every-rth-4x", task="continuation", max_new_tokens=2,
                                     baselines=("full", "none")), setup)
    rows = _rows(store)
    for example in setup.examples:
        ids = encode(tokenizer, example.context)[:24]
        entropy, surprisal, _ = _by_hand(trained, tokenizer.bos_token_id, ids)
        row = rows[example.example_id]
        n_bytes = len(tokenizer.decode(ids).encode("utf-8"))
        assert row["tenc_entropy"] == pytest.approx(entropy.mean().item(), rel=1e-5)
        assert row["tenc_surprisal"] == pytest.approx(surprisal.mean().item(), rel=1e-5)
        assert row["tenc_bits_per_byte"] == pytest.approx(surprisal.sum().item() / math.log(2) / n_bytes, rel=1e-5)
        assert row["tenc_entropy"] < row["enc_entropy"] - 0.1  # not the base encoder's (here the decoder)


def test_a_compressor_without_a_trained_encoder_lm_leaves_its_columns_empty(store, tiny_lm_dir):
    from datacomp.models.loading import load_causal_lm

    model, tokenizer = load_causal_lm(tiny_lm_dir)
    model.requires_grad_(False)
    setup = _setup(model, tokenizer, "tiny", "tiny")
    run_evaluation(store, EvalConfig(compressor="every-rth-4x", task="continuation", max_new_tokens=2,
                                     baselines=("full", "none")), setup)
    assert all(r["tenc_entropy"] is None or math.isnan(r["tenc_entropy"]) for r in _rows(store).values())
