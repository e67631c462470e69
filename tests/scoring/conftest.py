"""Fixtures for scoring tests: one torch thread, sample documents in the store."""

from __future__ import annotations

import pytest
from scoring_docs import insert_documents


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from threads, and OpenMP threads spinning on a shared, busy machine
    slow every small forward pass several-fold."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def docs(store):
    from scoring_docs import SAMPLE_TEXTS

    return insert_documents(store, SAMPLE_TEXTS)
