"""One torch thread for the tiny models here: on a shared 2-core machine, thread hand-offs cost more than
the 32-wide matrix products themselves (measured: a tiny-model evaluation 9.4 s with 2 threads, 2.0 s with 1)."""

import pytest


@pytest.fixture(autouse=True)
def _one_thread_here(one_torch_thread):
    """Every test here runs with one torch thread (tests/conftest.py says why)."""
