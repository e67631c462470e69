"""The unigram baseline: token frequencies from the training tokens with add-one (Laplace) smoothing.

p(t) = (count(t) + 1) / (N + V) over a vocabulary of V tokens and N training tokens. Its perplexity on
the validation tokens, exp(-mean log p(t)), is what a model knowing no context at all achieves: the ratio
of a model's perplexity to it says how much the context helps.
"""

from __future__ import annotations

import math

import numpy as np


def unigram_counts(token_ids, vocab_size: int) -> np.ndarray:
    """Counts of each token id in ``token_ids`` (any int array-like), length ``vocab_size``."""
    ids = np.asarray(token_ids, dtype=np.int64).ravel()
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"token ids must lie in [0, {vocab_size}), got [{ids.min()}, {ids.max()}]")
    return np.bincount(ids, minlength=vocab_size).astype(np.int64)


def unigram_log_probs(counts: np.ndarray) -> np.ndarray:
    """Natural-log add-one-smoothed probabilities for every token id."""
    counts = np.asarray(counts, dtype=np.float64)
    return np.log(counts + 1.0) - math.log(counts.sum() + counts.size)


def unigram_perplexity(counts: np.ndarray, token_ids) -> float:
    """exp of the mean negative log-probability of ``token_ids`` under the smoothed unigram model."""
    ids = np.asarray(token_ids, dtype=np.int64).ravel()
    if ids.size == 0:
        return float("nan")
    return float(math.exp(-unigram_log_probs(counts)[ids].mean()))
