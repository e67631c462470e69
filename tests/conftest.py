"""Shared fixtures: a fresh store per test, offline hub settings, quiet progress bars."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("DATACOMP_PROGRESS", "0")


@pytest.fixture
def store(tmp_path):
    from datacomp.store import open_store

    with open_store(tmp_path / "store.duckdb") as opened:
        yield opened
