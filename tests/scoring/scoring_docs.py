"""Documents for scoring tests, inserted straight into the store (no ingestion needed)."""

from __future__ import annotations

import hashlib


def insert_documents(store, texts, corpus="demo", domain="web"):
    """Insert texts as documents of one corpus; returns their doc_ids in order."""
    ids = []
    for i, text in enumerate(texts):
        doc_id = hashlib.sha256(f"{corpus}\x00{i}\x00{text}".encode()).hexdigest()
        store.run("scoring/fixture_document", {"doc_id": doc_id, "corpus": corpus, "domain": domain,
                                               "text": text, "source": f"test:{i}"})
        ids.append(doc_id)
    return ids


# Mixed lengths: the long ones need several windows at window 32 / stride 12, the short ones one window.
SAMPLE_TEXTS = [
    "The quick brown fox jumps over the lazy dog. " * 9,
    "def add(a, b):\n    return a + b\n\nprint(add(1, 2))\n" * 4,
    "Paris is the capital and most populous city of France.",
    "Naïve café — 東京 ünïcödé text with emoji 🙂 and <|endoftext|> inside it.",
    "To be, or not to be, that is the question.",
    "ok go",
    "x = [i * i for i in range(10)]",
]
