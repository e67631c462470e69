"""EM/F1 against hand-worked SQuAD v1.1 cases; BLEU against a hand computation and sacrebleu."""

import math

import pytest

from datacomp.evaluation.metrics import (
    corpus_bleu,
    exact_match,
    exact_match_max,
    normalize_answer,
    sentence_bleu,
    token_f1,
    token_f1_max,
)


@pytest.mark.parametrize("text, expected", [
    ("The  Quick, Brown fox!", "quick brown fox"),        # case, punctuation, article, whitespace
    ("an apple a day", "apple day"),                       # every article, as a whole word
    ("Theatre and anthem", "theatre and anthem"),          # articles inside words stay
    ("U.S.A.", "usa"),                                     # punctuation deleted, not replaced by a space
    ("rock-n-roll", "rocknroll"),
    ("  \t tabs\nand   newlines ", "tabs and newlines"),
    ("\u201cHi\u201d", "\u201chi\u201d"),                  # only ASCII punctuation is removed (as in v1.1)
    ("The", ""),
])
def test_normalize_answer_matches_squad_v11(text, expected):
    assert normalize_answer(text) == expected


def test_exact_match_ignores_case_articles_punctuation():
    assert exact_match("the Denver Broncos", "Denver Broncos.") == 1.0
    assert exact_match("Denver", "Denver Broncos") == 0.0


def test_token_f1_hand_values():
    # 2 shared words, precision 2/3, recall 2/2 -> F1 = 2 * (2/3) / (2/3 + 1) = 0.8
    assert token_f1("Denver Broncos won", "the Denver Broncos") == pytest.approx(0.8)
    # multisets: common = {cat: 1, dog: 1}; precision = recall = 2/3
    assert token_f1("cat cat dog", "cat dog dog") == pytest.approx(2 / 3)
    assert token_f1("", "Denver") == 0.0                    # v1.1: empty prediction scores 0
    assert token_f1("the", "a") == 0.0                      # both normalise to nothing: still 0 in v1.1


def test_max_over_gold_answers():
    golds = ["Denver Broncos", "the Carolina Panthers team", "Panthers"]
    # vs gold 2: precision 2/2, recall 2/3 -> 0.8; vs gold 3: precision 1/2, recall 1 -> 2/3; vs gold 1: 0
    assert token_f1_max("Carolina Panthers", golds) == pytest.approx(0.8)
    assert exact_match_max("Carolina Panthers", golds) == 0.0
    assert exact_match_max("panthers!", golds) == 1.0
    assert token_f1_max("anything", []) == 0.0


def test_corpus_bleu_hand_computed():
    # hypothesis 6 words, reference 7; every n-gram of the hypothesis matches, so BLEU = brevity penalty
    # = exp(1 - 7/6)
    score = corpus_bleu(["the cat sat on the mat"], ["the cat sat on the mat today"])
    assert score == pytest.approx(math.exp(1 - 7 / 6), abs=1e-4)
    assert sentence_bleu("the cat sat on the mat", "the cat sat on the mat") == pytest.approx(1.0)


def test_bleu_agrees_with_sacrebleu():
    sacrebleu = pytest.importorskip("sacrebleu")
    hyps = ["a quick brown dog jumps", "hello there world", "completely unrelated words here"]
    refs = ["the quick brown fox jumps over", "hello world", "nothing shared at all"]
    assert corpus_bleu(hyps, refs) == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score / 100)
    for hyp, ref in zip(hyps, refs):
        assert sentence_bleu(hyp, ref) == pytest.approx(sacrebleu.sentence_bleu(hyp, [ref]).score / 100)
    assert corpus_bleu([], []) is None
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        corpus_bleu(["a", "b"], ["a"])

