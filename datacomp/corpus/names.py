"""Corpus names a command refers to: an unknown one is an error listing the known ones."""

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
