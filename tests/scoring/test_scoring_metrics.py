"""Pure metric functions: known values, identities and bounds, against formulas written out here."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from datacomp.scoring import metrics


def test_uniform_logits_have_entropy_ln_v_and_surprisal_ln_v():
    for vocab in (2, 300, 49152):
        logits = torch.zeros(3, vocab)
        assert torch.allclose(metrics.entropy(logits), torch.full((3,), math.log(vocab)), rtol=1e-5)
        assert torch.allclose(metrics.surprisal(logits, torch.tensor([0, 1, vocab - 1])),
                              torch.full((3,), math.log(vocab)), rtol=1e-5)


def test_one_hot_logits_have_zero_entropy_even_with_masked_vocabulary():
    logits = torch.full((1, 5), -math.inf)
    logits[0, 2] = 0.0
    assert metrics.entropy(logits).item() == 0.0
    assert metrics.surprisal(logits, torch.tensor([2])).item() == 0.0
    assert metrics.kl_divergence(logits, logits).item() == 0.0
    assert metrics.js_divergence(logits, logits).item() == 0.0


def test_metrics_match_written_out_formulas():
    torch.manual_seed(0)
    p_logits, q_logits = torch.randn(6, 50) * 3, torch.randn(6, 50) * 3
    p = np.exp(p_logits.double().numpy())
    p /= p.sum(-1, keepdims=True)
    q = np.exp(q_logits.double().numpy())
    q /= q.sum(-1, keepdims=True)
    targets = torch.tensor([0, 5, 9, 49, 3, 3])
    m = (p + q) / 2
    expected = {
        "surprisal": -np.log(p[np.arange(6), targets.numpy()]),
        "entropy": -(p * np.log(p)).sum(-1),
        "kl": (p * np.log(p / q)).sum(-1),
        "js": 0.5 * (p * np.log(p / m)).sum(-1) + 0.5 * (q * np.log(q / m)).sum(-1),
    }
    got = {
        "surprisal": metrics.surprisal(p_logits, targets), "entropy": metrics.entropy(p_logits),
        "kl": metrics.kl_divergence(p_logits, q_logits), "js": metrics.js_divergence(p_logits, q_logits),
    }
    for key, value in expected.items():
        np.testing.assert_allclose(got[key].numpy(), value, rtol=1e-4, err_msg=key)


def test_kl_of_a_distribution_with_itself_is_zero():
    logits = torch.randn(10, 300) * 4
    assert torch.all(metrics.kl_divergence(logits, logits) == 0)
    assert torch.allclose(metrics.js_divergence(logits, logits), torch.zeros(10), atol=1e-6)


def test_js_is_symmetric_and_at_most_ln2():
    torch.manual_seed(1)
    p, q = torch.randn(20, 100) * 5, torch.randn(20, 100) * 5
    assert torch.allclose(metrics.js_divergence(p, q), metrics.js_divergence(q, p), atol=1e-6)
    # disjoint supports reach the bound ln 2
    far_p = torch.tensor([[30.0, -30.0]])
    far_q = torch.tensor([[-30.0, 30.0]])
    assert metrics.js_divergence(far_p, far_q).item() == pytest.approx(math.log(2), rel=1e-5)
    assert torch.all(metrics.js_divergence(p, q) <= math.log(2) + 1e-6)
    assert torch.all(metrics.js_divergence(p, q) >= 0)
    # KL is not symmetric: the engine stores both directions for a reason
    assert not torch.allclose(metrics.kl_divergence(p, q), metrics.kl_divergence(q, p))


def test_bfloat16_logits_are_normalised_in_float32():
    logits = torch.randn(4, 1000).to(torch.bfloat16)
    logp = metrics.log_probs(logits)
    assert logp.dtype == torch.float32
    assert torch.allclose(logp.exp().sum(-1), torch.ones(4), atol=1e-5)


def test_bits_per_byte():
    assert metrics.bits_per_byte(math.log(2) * 12, 6) == pytest.approx(2.0)
    assert metrics.bits_per_byte(1.0, 0) is None


def test_moments_match_numpy_population_std():
    values = torch.tensor([1.0, 2.0, 4.0, 10.0, 3.0, 3.0, 3.5])
    docs = torch.tensor([0, 0, 0, 1, 2, 2, 2])
    moments = metrics.Moments(3)
    moments.add(docs[:4], values[:4])  # two calls, as windows of one document arriving in two batches
    moments.add(docs[4:], values[4:])
    assert moments.mean(0) == pytest.approx(np.mean([1, 2, 4]))
    assert moments.std(0) == pytest.approx(np.std([1, 2, 4]))
    assert moments.std(1) == 0.0
    assert moments.std(2) == pytest.approx(np.std([3, 3, 3.5]))


def test_single_exp_path_equals_log_softmax_path_including_peaked_and_masked_rows():
    torch.manual_seed(2)
    logits = torch.randn(5, 300) * 4
    logits[1, 7] = 60.0                     # nearly one-hot: entropy ~1e-24, must not come out negative
    logits[2, :100] = -math.inf             # masked part of the vocabulary
    targets = torch.tensor([0, 7, 150, 299, 42])
    surprisal, entropy = metrics.surprisal_and_entropy(logits, targets)
    logp = metrics.log_probs(logits)
    torch.testing.assert_close(surprisal, metrics.surprisal_from_logp(logp, targets), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(entropy, metrics.entropy_from_logp(logp), rtol=1e-5, atol=1e-6)
    assert torch.all(torch.isfinite(entropy)) and entropy[1] >= 0


def test_shared_pass_divergences_equal_the_separate_functions():
    torch.manual_seed(3)
    p_logits, q_logits = torch.randn(8, 500) * 3, torch.randn(8, 500) * 3
    p_logits[0, :50] = -math.inf  # masked entries in one of them
    targets = torch.zeros(8, dtype=torch.long) + 60
    *_, (logp, p) = metrics.surprisal_and_entropy(p_logits, targets, keep_distribution=True)
    *_, (logq, q) = metrics.surprisal_and_entropy(q_logits, targets, keep_distribution=True)
    kl_pq, kl_qp, js = metrics.divergences(logp, logq, p, q)
    torch.testing.assert_close(kl_pq, metrics.kl_divergence(p_logits, q_logits), rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(kl_qp[1:], metrics.kl_divergence(q_logits, p_logits)[1:], rtol=1e-4, atol=1e-6)
    assert torch.isinf(kl_qp[0])  # q puts mass where p has none
    torch.testing.assert_close(js, metrics.js_divergence(p_logits, q_logits), rtol=1e-4, atol=1e-6)
