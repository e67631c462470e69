"""Text baselines every evaluation runs beside a compressor, all on the plain decoder, greedy decoding.

The decoder reads ``[kept context tokens, prompt tokens]`` - the same layout a compressor's decoder reads
with the memory in the context's place (see compressors/base.py) - and decodes greedily until eos or
``max_new_tokens``. Context tokens are the decoder tokenizer's ids, selected as ids (never re-tokenised),
so a budget of b tokens keeps exactly b tokens:

- ``full``: every context token (the quality ceiling).
- ``none``: no context token (the floor: what the decoder knows or guesses from the prompt alone).
- ``truncate``: the first b tokens.
- ``drop``: a uniform random subset of b token positions, kept in their original order; the subset is
  drawn with ``random.Random(seed_key)``, seed_key = "<seed>:<example_id>", so it is fixed per example.

b is the compressor's slot count on that example when a compressor is evaluated (the same budget), else
ceil(n / r). When decoder input would be empty (``none`` with an empty prompt, e.g. continuation), the
tokenizer's bos token (else eos) is the single start token.
"""

from __future__ import annotations

import math
import random

import torch

BASELINES = ("full", "none", "truncate", "drop")


def budget_tokens(n_tokens: int, ratio: float) -> int:
    """Tokens a ratio-r compression keeps of n: ceil(n / r), at least 1 and at most n."""
    if ratio <= 0:
        raise ValueError(f"ratio must be positive, not {ratio}")
    if n_tokens == 0:
        return 0
    return min(n_tokens, max(1, math.ceil(n_tokens / ratio)))


def kept_positions(system: str, n_tokens: int, budget: int, seed_key: str) -> list[int]:
    """The context positions a baseline keeps, in order."""
    budget = min(budget, n_tokens)
    if system == "full":
        return list(range(n_tokens))
    if system == "none":
        return []
    if system == "truncate":
        return list(range(budget))
    if system == "drop":
        return sorted(random.Random(seed_key).sample(range(n_tokens), budget))
    raise ValueError(f"unknown baseline {system!r}; known: {', '.join(BASELINES)}")


@torch.no_grad()
def greedy_decode(model, input_ids: list[int], max_new_tokens: int, eos_token_id: int | None) -> list[int]:
    """Greedy continuation of ``input_ids`` (eos not included), reusing the model's cache between steps."""
    device = next(model.parameters()).device
    out = model(input_ids=torch.tensor([input_ids], device=device), use_cache=True)
    generated: list[int] = []
    for _ in range(max_new_tokens):
        next_id = int(out.logits[0, -1].argmax().item())
        if eos_token_id is not None and next_id == eos_token_id:
            break
        generated.append(next_id)
        out = model(input_ids=torch.tensor([[next_id]], device=device), past_key_values=out.past_key_values,
                    use_cache=True)
    return generated


@torch.no_grad()
def target_nll(model, input_ids: list[int], target_ids: list[int]) -> float | None:
    """Mean -log P(target token | input_ids, earlier target tokens) under ``model``, in nats (teacher forcing).
    ``input_ids`` must be non-empty (a start token when nothing else is kept)."""
    if not target_ids:
        return None
    device = next(model.parameters()).device
    ids = torch.tensor([list(input_ids) + list(target_ids)], device=device)
    logits = model(input_ids=ids).logits[0, len(input_ids) - 1:-1].float()
    return float(torch.nn.functional.cross_entropy(logits, ids[0, len(input_ids):]))


def start_token_id(tokenizer) -> int:
    token = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    if token is None:
        raise ValueError("the tokenizer has neither a bos nor an eos token to start decoding from")
    return int(token)


def baseline_input(context_ids: list[int], kept: list[int], prompt_ids: list[int], start_id: int) -> list[int]:
    """Decoder input of a baseline: the kept context ids then the prompt ids (a start token if empty)."""
    ids = [context_ids[i] for i in kept] + list(prompt_ids)
    return ids or [start_id]


def embedding_bytes(model, n_tokens: int) -> int:
    """Bytes of ``n_tokens`` input embeddings of ``model``: what a text baseline hands the decoder."""
    weight = model.get_input_embeddings().weight
    return n_tokens * weight.shape[1] * weight.element_size()
