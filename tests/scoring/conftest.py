"""Fixtures for scoring tests: one torch thread, sample documents in the store."""

from __future__ import annotations

import pytest
from scoring_docs import insert_documents


@pytest.fixture(autouse=True)
def _one_thread_here(one_torch_thread):
    """Every test here runs with one torch thread (tests/conftest.py says why)."""


@pytest.fixture
def docs(store):
    from scoring_docs import SAMPLE_TEXTS

    return insert_documents(store, SAMPLE_TEXTS)
