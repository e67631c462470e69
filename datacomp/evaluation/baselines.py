"""Text baselines every evaluation runs beside a compressor: a choice of context tokens to keep.

Each baseline is ``kept_positions(system, n, budget, ...) -> positions``; the decoder then reads
``[BOS, kept context tokens, prompt]`` (decoding.token_prefix; BOS when the tokenizer has one, else eos
as the start token) and runs through the same batched ``nll_and_greedy`` as every compressor, so
"full context" differs from a compressor only in its prefix. Context tokens are the decoder
tokenizer's ids, selected as ids (never re-tokenised), so a budget of b tokens keeps exactly b tokens:

- ``full``: every context token (the quality ceiling).
- ``none``: no context token (the floor: what the decoder knows or guesses from the prompt alone).
- ``truncate``: the first b tokens.
- ``drop``: a uniform random subset of b positions, in order; drawn with ``random.Random(seed_key)``,
  seed_key = "<seed>:<example_id>", so it is fixed per example.
- ``selective``: Selective Context (Li et al. 2023) at the token level: keep the b tokens with the
  highest self-information -log p(token | preceding context) under a scoring model (the plain decoder),
  in their original order; ties keep the earlier token. The paper merges tokens into phrases and
  sentences first and uses GPT-2 as the scorer; tokens and the evaluated decoder are this toolkit's
  choice (no extra model, the same tokenizer).

b is the compressor's slot count on that example when a compressor is evaluated (the same budget), else
ceil(n / r). The training-free systems (training_free.py: KV presses, LLMLingua) are budgeted the same way
and count as baselines here: systems that need no compressor row.
"""

from __future__ import annotations

import math
import random
from typing import Sequence

from datacomp.evaluation.training_free import SYSTEMS as TRAINING_FREE

BASELINES = ("full", "none", "truncate", "drop", "selective")
BUDGETED = ("truncate", "drop", "selective")  # the baselines that a ratio constrains
TUNED_SUFFIX = "@tuned"  # a baseline run through a decoder-tuning compressor's own decoder (systems.py)


def base_name(system: str) -> str:
    """``truncate@tuned`` -> ``truncate``; any other name unchanged."""
    return system[:-len(TUNED_SUFFIX)] if system.endswith(TUNED_SUFFIX) else system


def is_tuned(system: str) -> bool:
    return system.endswith(TUNED_SUFFIX)


# What a budget counts, per system kind: the text baselines keep decoder tokens, SAC hands over anchor KV
# slots, the autoencoder and COMI soft tokens (input embeddings); training-free systems say their own.
COMPRESSOR_BUDGET_UNITS = {"sac": "kv_slots", "autoencoder": "soft_tokens", "comi": "soft_tokens"}


def known_systems() -> tuple[str, ...]:
    """What ``--baselines`` accepts: the text baselines and the training-free systems."""
    return BASELINES + tuple(TRAINING_FREE)


def is_baseline(system: str) -> bool:
    return base_name(system) in BASELINES or system in TRAINING_FREE


def is_budgeted(system: str) -> bool:
    """A baseline whose kept tokens depend on the ratio (not full / none)."""
    return base_name(system) in BUDGETED or system in TRAINING_FREE


def budget_unit(system: str, method: str | None) -> str:
    """``tokens`` (text baselines, prompt compressors), ``kv_slots`` (KV presses, SAC) or ``soft_tokens``."""
    if system in TRAINING_FREE:
        return TRAINING_FREE[system].budget_unit
    if is_baseline(system) or method is None:
        return "tokens"
    return COMPRESSOR_BUDGET_UNITS.get(method, "slots")


def budget_tokens(n_tokens: int, ratio: float) -> int:
    """Tokens a ratio-r compression keeps of n: ceil(n / r), at least 1 and at most n."""
    if ratio <= 0:
        raise ValueError(f"ratio must be positive, not {ratio}")
    if n_tokens == 0:
        return 0
    return min(n_tokens, max(1, math.ceil(n_tokens / ratio)))


def kept_positions(system: str, n_tokens: int, budget: int, seed_key: str,
                   surprisal: Sequence[float] | None = None) -> list[int]:
    """The context positions a baseline keeps, in order (``surprisal``: per token, for selective)."""
    budget = min(budget, n_tokens)
    if system == "full":
        return list(range(n_tokens))
    if system == "none":
        return []
    if system == "truncate":
        return list(range(budget))
    if system == "drop":
        return sorted(random.Random(seed_key).sample(range(n_tokens), budget))
    if system == "selective":
        if surprisal is None or len(surprisal) != n_tokens:
            raise ValueError("selective needs one surprisal value per context token")
        ranked = sorted(range(n_tokens), key=lambda i: (-surprisal[i], i))
        return sorted(ranked[:budget])
    raise ValueError(f"unknown baseline {system!r}; known: {', '.join(BASELINES)}")
