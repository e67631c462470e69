"""Pretraining data: documents by domain from the store, a train/validation split by doc_id hash, token
streams, and mixture sampling of training windows.

The split depends only on the doc_id (a content hash) and the validation fraction, so a document is in
validation for every model of every mixture, and no model ever trains on it.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

from datacomp.errors import DatacompError
from datacomp.store import Store

_FETCH = 256  # documents per fetch from DuckDB: bounded memory while streaming a domain


def is_validation(doc_id: str, fraction: float) -> bool:
    """True for ~``fraction`` of doc ids, decided by a hash of the id alone (stable across runs and stores)."""
    digest = hashlib.sha256(f"datacomp-validation:{doc_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64 < fraction


def slice_documents(store: Store, name: str) -> frozenset[str]:
    """The doc_ids of slice ``name``; an unknown slice is an error naming the known ones."""
    from datacomp.corpus.names import require_slice_name

    require_slice_name(store, name, "--held-out-slice")
    return frozenset(row["doc_id"] for row in store.rows("curation/slice_members", {"name": name}))


def domain_counts(store: Store) -> dict[str, int]:
    """Documents per domain in the store."""
    return {row["domain"]: row["n_docs"] for row in store.rows("models/domain_counts")}


@dataclasses.dataclass
class DomainTexts:
    domain: str
    train: list[str]
    validation: list[str]


def load_domain_texts(store: Store, domain: str, validation_fraction: float, max_train_chars: int,
                      max_validation_chars: int, held_out: frozenset[str] = frozenset()) -> DomainTexts:
    """Train and validation texts of one domain, in doc_id order, each list stopping at its character budget.
    Documents in ``held_out`` (e.g. a study's evaluation split) are validation documents too: never trained on."""
    texts = DomainTexts(domain, [], [])
    train_chars = validation_chars = 0
    cursor = store.run("models/domain_documents", {"domain": domain})
    while train_chars < max_train_chars or validation_chars < max_validation_chars:
        rows = cursor.fetchmany(_FETCH)
        if not rows:
            break
        for doc_id, text in rows:
            if doc_id in held_out or is_validation(doc_id, validation_fraction):
                if validation_chars < max_validation_chars:
                    texts.validation.append(text)
                    validation_chars += len(text)
            elif train_chars < max_train_chars:
                texts.train.append(text)
                train_chars += len(text)
    return texts


def token_stream(documents: list[list[int]], eos_id: int) -> np.ndarray:
    """Documents' token ids joined into one array, each document followed by eos (a document boundary)."""
    total = sum(len(d) + 1 for d in documents)
    stream = np.empty(total, dtype=np.int64)
    position = 0
    for ids in documents:
        stream[position:position + len(ids)] = ids
        position += len(ids)
        stream[position] = eos_id
        position += 1
    return stream


class MixtureSampler:
    """Batches of ``context + 1`` consecutive training tokens; each row's domain is drawn by mixture weight
    and its start uniformly within that domain's stream. Seeded: the same seed gives the same batches.

    With ``copy_fraction`` > 0 that share of rows is a restated segment instead (see ``restated_row``): text
    of the row's domain followed by the same text again. Natural text repeats itself too rarely for a
    two-minute model to learn to look back and copy; these rows teach it to (an induction head), and a
    decoder that copies is what lets context, and a compressor's memory of it, change what it predicts."""

    def __init__(self, streams: dict[str, np.ndarray], weights: dict[str, float], context: int,
                 batch_size: int, seed: int, copy_fraction: float = 0.0):
        self.domains = list(weights)
        for domain in self.domains:
            if domain not in streams or len(streams[domain]) < 2:
                raise DatacompError(f"mixture domain {domain!r} has no training tokens (all of its documents "
                                    "fell into the validation split?); add documents or lower the fraction")
        probabilities = np.array([weights[d] for d in self.domains], dtype=np.float64)
        self.probabilities = probabilities / probabilities.sum()
        # A domain shorter than one window is repeated until it fills one (tiny domains still train).
        self.streams = {d: _at_least(streams[d], context + 1) for d in self.domains}
        self.context = context
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        if not 0.0 <= copy_fraction < 1.0:
            raise DatacompError(f"--copy-fraction must lie in [0, 1), got {copy_fraction}")
        self.copy_fraction = copy_fraction

    def next_batch(self, alphabet: np.ndarray | None = None, start_token: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(windows [batch, context + 1] of token ids, domain index of each row). With ``alphabet`` every row
        is synthetic instead (``synthetic_row``; its domain index is -1)."""
        if alphabet is not None:
            self.restated = np.ones(self.batch_size, dtype=bool)
            rows = [synthetic_row(alphabet, self.context + 1, start_token, self.rng) for _ in range(self.batch_size)]
            return np.stack(rows), np.full(self.batch_size, -1)
        rows = self.rng.choice(len(self.domains), size=self.batch_size, p=self.probabilities)
        batch = np.empty((self.batch_size, self.context + 1), dtype=np.int64)
        self.restated = np.zeros(self.batch_size, dtype=bool)  # which rows of this batch restate a segment
        for i, domain_index in enumerate(rows):
            stream = self.streams[self.domains[domain_index]]
            if self.copy_fraction and self.rng.random() < self.copy_fraction:
                batch[i] = restated_row(stream, self.context + 1, self.rng)
                self.restated[i] = True
            else:
                start = int(self.rng.integers(0, len(stream) - self.context))
                batch[i] = stream[start:start + self.context + 1]
        return batch, rows


def restated_row(stream: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """``length`` tokens: a segment of 4 to length // 2 tokens drawn from ``stream``, then the same segment
    again, and again, until the row is full (the row's second copy onwards is predictable by copying)."""
    segment_length = int(rng.integers(4, max(length // 2, 4) + 1))
    start = int(rng.integers(0, len(stream) - segment_length + 1))
    segment = stream[start:start + segment_length]
    return np.tile(segment, -(-length // segment_length))[:length]


def synthetic_row(alphabet: np.ndarray, length: int, start_token: int, rng: np.random.Generator) -> np.ndarray:
    """``length`` tokens: the start token, then a segment of 8 to length // 2 tokens drawn independently and
    uniformly from ``alphabet``, repeated until the row is full. Nothing but looking back predicts a repeat
    (no n-gram shortcut, no fixed offset: the period varies), so these rows teach the induction circuit."""
    segment = alphabet[rng.integers(0, len(alphabet), size=int(rng.integers(8, max(length // 2, 8) + 1)))]
    row = np.empty(length, dtype=np.int64)
    row[0] = start_token
    row[1:] = np.tile(segment, -(-(length - 1) // len(segment)))[:length - 1]
    return row


def induction_alphabet(vocab_size: int, size: int, special_ids: set[int], seed: int) -> np.ndarray:
    """``size`` distinct token ids (no special token), drawn with ``seed``: the synthetic rows' alphabet."""
    candidates = np.array([i for i in range(vocab_size) if i not in special_ids])
    return np.random.default_rng(seed).choice(candidates, size=min(size, len(candidates)), replace=False)


def _at_least(stream: np.ndarray, length: int) -> np.ndarray:
    if len(stream) >= length:
        return stream
    return np.tile(stream, -(-length // len(stream)))


def evaluation_windows(stream: np.ndarray, context: int) -> list[np.ndarray]:
    """Cut a validation stream into windows of up to ``context + 1`` tokens overlapping by one, so every
    token but the first is predicted exactly once (with 1..context tokens of context)."""
    windows = []
    for start in range(0, max(len(stream) - 1, 0), context):
        window = stream[start:start + context + 1]
        if len(window) >= 2:
            windows.append(window)
    return windows
