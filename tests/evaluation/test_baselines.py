"""Baselines keep exactly the budgeted tokens; greedy decoding matches transformers' own greedy search."""

import pytest
import torch

from datacomp.evaluation.baselines import (
    baseline_input,
    budget_tokens,
    embedding_bytes,
    greedy_decode,
    kept_positions,
)


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


def test_baseline_input_layout():
    assert baseline_input([10, 11, 12, 13], [1, 3], [7, 8], start_id=0) == [11, 13, 7, 8]
    assert baseline_input([10, 11], [], [], start_id=5) == [5]


def test_greedy_decode_matches_transformers_generate(tiny_lm_dir):
    from datacomp.models.loading import load_causal_lm

    model, tokenizer = load_causal_lm(tiny_lm_dir)
    prompt = tokenizer("The quick brown fox", add_special_tokens=False)["input_ids"]
    ours = greedy_decode(model, prompt, max_new_tokens=12, eos_token_id=None)
    theirs = model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                            max_new_tokens=12, min_new_tokens=12, do_sample=False,
                            pad_token_id=tokenizer.eos_token_id)[0, len(prompt):].tolist()
    assert ours == theirs and len(ours) == 12
    first = ours[0]
    assert greedy_decode(model, prompt, max_new_tokens=12, eos_token_id=first) == []   # stops at eos
    hidden = model.config.hidden_size
    assert embedding_bytes(model, 7) == 7 * hidden * 4                                   # float32
