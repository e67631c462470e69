"""Corpus and slice names a command refers to: an unknown one is an error listing the known ones."""

from __future__ import annotations

from typing import Iterable

from datacomp.errors import DatacompError
from datacomp.store.db import Store


def known_corpora(store: Store) -> list[str]:
    return [row["corpus"] for row in store.rows("corpus/names")]


def require_corpora(store: Store, names: Iterable[str]) -> None:
    """Raise naming the first unknown corpus of ``names`` and the corpora the store has."""
    known = known_corpora(store)
    for name in names:
        if name not in known:
            raise DatacompError(f"unknown corpus {name!r}; known: {', '.join(known) or 'none (ingest one first)'}")


def require_slice_name(store: Store, name: str, flag: str) -> None:
    """Raise ``FLAG 'name': no such slice (known: ...)`` when the store has no slice ``name`` (an empty one is
    fine)."""
    if not store.rows("compressors/slice_exists", {"slice": name}):
        known = [row["name"] for row in store.rows("compressors/known_sources") if row["kind"] == "slice"]
        raise DatacompError(f"{flag} {name!r}: no such slice (known: {', '.join(known) or 'none'})")
