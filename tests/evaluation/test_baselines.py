"""Baselines keep exactly the budgeted tokens (greedy decoding is tested in tests/compressors/test_decoding.py)."""

import pytest

from datacomp.evaluation.baselines import budget_tokens, kept_positions
from datacomp.evaluation.outputs import embedding_bytes


@pytest.mark.parametrize("n, ratio, expected", [(128, 4, 32), (130, 4, 33), (10, 16, 1), (3, 1, 3), (0, 4, 0)])
def test_budget_is_ceil_n_over_r(n, ratio, expected):
    assert budget_tokens(n, ratio) == expected


@pytest.mark.parametrize("n, budget", [(128, 32), (130, 33), (17, 1), (5, 5), (5, 9)])
def test_truncate_and_drop_keep_exactly_the_budget(n, budget):
    truncated = kept_positions("truncate", n, budget, "0:x")
    assert truncated == list(range(min(budget, n)))
    dropped = kept_positions("drop", n, budget, "0:x")
    assert len(dropped) == min(budget, n) == len(set(dropped))
    assert dropped == sorted(dropped) and all(0 <= i < n for i in dropped)
    assert kept_positions("drop", n, budget, "0:x") == dropped            # seeded: the same subset again


def test_drop_subset_depends_on_the_seed_and_full_none():
    subsets = {tuple(kept_positions("drop", 100, 10, f"{seed}:x")) for seed in range(5)}
    assert len(subsets) == 5
    assert kept_positions("full", 4, 1, "s") == [0, 1, 2, 3]
    assert kept_positions("none", 4, 1, "s") == []
    with pytest.raises(ValueError, match="unknown baseline 'half'"):
        kept_positions("half", 4, 1, "s")


def test_selective_context_keeps_the_highest_surprisal_tokens_in_order():
    surprisal = [0.5, 3.0, 1.0, 3.0, 0.1, 2.0]
    assert kept_positions("selective", 6, 3, "s", surprisal) == [1, 3, 5]
    assert kept_positions("selective", 6, 2, "s", surprisal) == [1, 3]        # tie: the earlier token first
    assert kept_positions("selective", 6, 1, "s", [1.0] * 6) == [0]
    with pytest.raises(ValueError, match="one surprisal value per context token"):
        kept_positions("selective", 6, 2, "s", [1.0])


def test_embedding_bytes(tiny_lm_dir):
    from datacomp.models.loading import load_causal_lm

    model, _ = load_causal_lm(tiny_lm_dir)
    assert embedding_bytes(model, 7) == 7 * model.config.hidden_size * 4                 # float32
