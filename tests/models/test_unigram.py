import math

import numpy as np
import pytest

from datacomp.models.unigram import unigram_counts, unigram_log_probs, unigram_perplexity


def test_add_one_perplexity_by_hand():
    # vocabulary of 4; training tokens 0 0 0 1 2 -> counts 3 1 1 0, N = 5, N + V = 9
    counts = unigram_counts([0, 0, 0, 1, 2], vocab_size=4)
    assert counts.tolist() == [3, 1, 1, 0]
    # p = 4/9, 2/9, 2/9, 1/9; validation tokens 0 1 3 3
    expected = math.exp(-(math.log(4 / 9) + math.log(2 / 9) + 2 * math.log(1 / 9)) / 4)
    assert unigram_perplexity(counts, [0, 1, 3, 3]) == pytest.approx(expected, rel=1e-12)
    assert np.exp(unigram_log_probs(counts)).sum() == pytest.approx(1.0)


def test_uniform_when_nothing_was_seen():
    counts = unigram_counts([], vocab_size=7)
    assert unigram_perplexity(counts, [1, 5, 6]) == pytest.approx(7.0)


def test_ids_outside_the_vocabulary_are_refused():
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 3\)"):
        unigram_counts([0, 3], vocab_size=3)
