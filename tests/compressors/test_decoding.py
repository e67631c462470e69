"""The one batched decoder: greedy tokens equal transformers' own greedy search row by row, the
teacher-forced NLL equals a hand computation from the model's logits, padding changes nothing, and the
masks stay finite in half precision."""

import pytest
import torch

from datacomp.compressors.decoding import (
    additive_mask,
    greedy_decode,
    nll_and_greedy,
    teacher_forced_nll,
    token_prefix,
    token_surprisal,
)


@pytest.fixture(scope="module")
def lm(tiny_lm_dir):
    from datacomp.compressors.lora import load_lm

    return load_lm(str(tiny_lm_dir))


def ids(tokenizer, text):
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def hf_greedy(model, prompt, n):
    return model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                          max_new_tokens=n, min_new_tokens=n, do_sample=False,
                          pad_token_id=0)[0, len(prompt):].tolist()


def test_batched_greedy_equals_transformers_generate_per_row(lm):
    model, tokenizer = lm
    texts = ["The quick brown fox", "A", "Paris is the capital of a country in"]
    rows = [ids(tokenizer, t) for t in texts]
    prompts = [ids(tokenizer, " then"), [], ids(tokenizer, " and")]
    prefix = token_prefix(model, rows, start_token_id=None)
    ours = greedy_decode(model, prefix, prompts, max_new_tokens=10, eos_token_id=None)
    for row, prompt, got in zip(rows, prompts, ours):
        assert got == hf_greedy(model, row + prompt, 10) and len(got) == 10


def test_each_row_stops_at_its_own_eos(lm):
    model, tokenizer = lm
    rows = [ids(tokenizer, "The quick brown fox"), ids(tokenizer, "Paris is the capital")]
    alone = [greedy_decode(model, token_prefix(model, [r], None), [[]], 8, None)[0] for r in rows]
    stop = alone[0][2]  # the first row's third token plays eos
    together = greedy_decode(model, token_prefix(model, rows, None), [[], []], 8, stop)
    for got, full in zip(together, alone):
        expected = full[:full.index(stop)] if stop in full else full
        assert got == expected
    assert len(together[0]) == 2


def test_teacher_forced_nll_equals_the_logits_by_hand_and_shares_the_prefill(lm):
    model, tokenizer = lm
    contexts = [ids(tokenizer, "Alice bought seven apples"), ids(tokenizer, "Bob")]
    prompts = [ids(tokenizer, " Who?"), ids(tokenizer, " What did he do?")]
    targets = [ids(tokenizer, " Alice") + [0], ids(tokenizer, " nothing at all") + [0]]
    prefix = token_prefix(model, contexts, start_token_id=0)
    nll = teacher_forced_nll(model, prefix, prompts, targets)
    both, generated = nll_and_greedy(model, prefix, prompts, targets, 5, None)
    for row in range(2):
        sequence = [0] + contexts[row] + prompts[row] + targets[row]
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=torch.tensor([sequence])).logits[0].double(), dim=-1)
        start = len(sequence) - len(targets[row])
        expected = -sum(float(logp[start - 1 + j, t]) for j, t in enumerate(targets[row])) / len(targets[row])
        assert float(nll[row].detach()) == pytest.approx(expected, rel=1e-5)
        assert both[row] == pytest.approx(expected, rel=1e-5)
        assert generated[row] == hf_greedy(model, [0] + contexts[row] + prompts[row], 5)


def test_loss_start_skips_leading_target_tokens(lm):
    model, tokenizer = lm
    prefix = token_prefix(model, [ids(tokenizer, "one two three")], 0)
    target = ids(tokenizer, " four five six seven")
    per_token = token_surprisal(model, [ids(tokenizer, "one two three") + target], 0)[0][-len(target):]
    skipped = teacher_forced_nll(model, prefix, [[]], [target], loss_starts=[2])
    assert float(skipped[0].detach()) == pytest.approx(sum(per_token[2:]) / (len(target) - 2), rel=1e-5)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_masks_are_finite_in_the_compute_dtype(dtype):
    allowed = torch.tensor([[[True, False], [True, True]]])
    mask = additive_mask(allowed, dtype)
    assert mask.dtype == dtype and torch.isfinite(mask).all()
    assert mask[0, 0, 0, 1] == torch.finfo(dtype).min and mask[0, 0, 1, 0] == 0
