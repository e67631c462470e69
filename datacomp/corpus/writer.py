"""Writing one batch of validated items: new documents, duplicate occurrences, quarantine rows.

Each batch is one transaction: a crash (or an exception) inside leaves none of its rows behind, and the
batches before it stay committed. Duplicates are found against the store and within the batch itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from datacomp.corpus.records import Rejected
from datacomp.corpus.validate import Document
from datacomp.store.db import Store


@dataclass
class BatchCounts:
    ingested: int = 0
    duplicates: int = 0
    quarantined: int = 0


def _insert_documents(store: Store, corpus: str, run_id: str, docs: list[Document]) -> None:
    store.run("corpus/insert_documents", {
        "corpus": corpus, "run_id": run_id,
        "doc_ids": [d.doc_id for d in docs], "domains": [d.domain for d in docs],
        "texts": [d.text for d in docs], "n_chars": [len(d.text) for d in docs],
        "n_bytes": [len(d.text.encode("utf-8")) for d in docs],
        "sources": [d.locator for d in docs], "metas": [d.meta for d in docs],
    })


def _insert_duplicates(store: Store, corpus: str, run_id: str, occurrences: list[tuple[str, str]]) -> None:
    store.run("corpus/insert_duplicates", {
        "corpus": corpus, "run_id": run_id,
        "doc_ids": [doc_id for doc_id, _ in occurrences], "sources": [loc for _, loc in occurrences],
    })


def _insert_quarantine(store: Store, corpus: str, run_id: str, rejected: list[Rejected]) -> None:
    store.run("corpus/insert_quarantine", {
        "corpus": corpus, "run_id": run_id,
        "sources": [r.source for r in rejected], "locators": [r.locator for r in rejected],
        "reasons": [r.reason for r in rejected], "details": [r.detail for r in rejected],
        "excerpts": [r.excerpt for r in rejected],
    })


def write_batch(store: Store, corpus: str, run_id: str, items: list[Document | Rejected]) -> BatchCounts:
    """Store one batch atomically; every item is counted exactly once as ingested, duplicate or quarantined."""
    counts = BatchCounts()
    docs = [item for item in items if isinstance(item, Document)]
    rejected = list({(r.locator, r.reason): r for r in items if isinstance(r, Rejected)}.values())
    counts.quarantined = sum(isinstance(item, Rejected) for item in items)
    with store.transaction():
        origin: dict[str, tuple[str, str]] = {}  # doc_id -> (corpus, locator) of the first occurrence
        if docs:
            for row in store.rows("corpus/existing_documents", {"doc_ids": sorted({d.doc_id for d in docs})}):
                origin[row["doc_id"]] = (row["corpus"], row["source"])
        new_docs: list[Document] = []
        occurrences: dict[tuple[str, str], None] = {}  # ordered set of (doc_id, locator)
        for doc in docs:
            if doc.doc_id in origin:
                counts.duplicates += 1
                # Re-reading the very record a document came from is no new occurrence.
                if origin[doc.doc_id] != (corpus, doc.locator):
                    occurrences[(doc.doc_id, doc.locator)] = None
            else:
                origin[doc.doc_id] = (corpus, doc.locator)
                new_docs.append(doc)
        counts.ingested = len(new_docs)
        if new_docs:
            _insert_documents(store, corpus, run_id, new_docs)
        if occurrences:
            _insert_duplicates(store, corpus, run_id, list(occurrences))
        if rejected:
            _insert_quarantine(store, corpus, run_id, rejected)
    return counts
