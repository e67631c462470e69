"""Quality metrics as pure functions: SQuAD v1.1 exact match and token F1, BLEU.

- ``normalize_answer`` follows the official SQuAD v1.1 evaluation script: lowercase, drop every ASCII
  punctuation character, drop the articles a/an/the as whole words, fold whitespace.
- ``exact_match`` / ``token_f1`` compare one prediction with one gold answer; the ``*_max`` variants take
  the maximum over several gold answers, as SQuAD does. Like v1.1 (unlike v2.0), an empty prediction or an
  empty gold answer scores F1 0: there is no special case for "both empty".
- Reconstruction F1 uses the same ``token_f1`` (bag of normalised words of the source vs. the
  reconstruction), so "F1" means one thing everywhere in the toolkit.
- BLEU is sacrebleu's BLEU-4 (13a tokenisation, exponential smoothing for sentence level), reported on
  a 0-1 scale like every other metric here (sacrebleu's 0-100 divided by 100).
- The compression gain (compressed - none) / (full - none) needs the per-example rows and a paired CI of
  full - none: evaluation/comparisons.py (system_gains), not a function of three means.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from typing import Sequence

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD v1.1 normalisation: lower -> remove punctuation -> remove articles -> fold whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction: str, gold: str) -> float:
    """Harmonic mean of precision and recall over the multiset of normalised words."""
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    common = Counter(pred_tokens) & Counter(gold_tokens)
    n_same = sum(common.values())
    if n_same == 0:
        return 0.0
    precision = n_same / len(pred_tokens)
    recall = n_same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def exact_match_max(prediction: str, golds: Sequence[str]) -> float:
    """Best exact match over the gold answers (0 when there are none)."""
    return max((exact_match(prediction, g) for g in golds), default=0.0)


def token_f1_max(prediction: str, golds: Sequence[str]) -> float:
    """Best token F1 over the gold answers (0 when there are none)."""
    return max((token_f1(prediction, g) for g in golds), default=0.0)


def sentence_bleu(prediction: str, reference: str) -> float:
    """sacrebleu sentence BLEU-4 (13a tokens, 'exp' smoothing), on a 0-1 scale."""
    import sacrebleu

    return sacrebleu.sentence_bleu(prediction, [reference]).score / 100.0


def corpus_bleu(predictions: Sequence[str], references: Sequence[str]) -> float | None:
    """sacrebleu corpus BLEU-4 over aligned predictions and references, on a 0-1 scale (None if empty)."""
    import sacrebleu

    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    if not predictions:
        return None
    return sacrebleu.corpus_bleu(list(predictions), [list(references)]).score / 100.0

