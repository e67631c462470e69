"""Fixtures of the analysis tests: reports built from the planted store of planted_store.py (kept in a module
of its own name, so test files import it by a name no other tests folder's conftest shadows)."""

from __future__ import annotations

import json

import pytest

from planted_store import FAST, populate


def _built(tmp_path_factory, name, figures=True, **planted):
    from datacomp.analysis.report import ReportConfig, make_report
    from datacomp.store import open_store

    folder = tmp_path_factory.mktemp(name)
    store = open_store(folder / "store.duckdb")
    populate(store, n_per_domain=30, **planted)
    paths = make_report(store, ReportConfig(target_f1=85, figures=figures, **FAST), folder / "out")
    data = json.loads(paths["json"].read_text())
    return store, paths, data


@pytest.fixture(scope="session")
def planted(tmp_path_factory):
    """(store, paths, report.json) for planted effects: encoder entropy lowers F1 by 0.1 per nat, the gap
    by 0.06 per 0.1 nat of JS; decoder entropy does nothing. Predictors come from scored windows."""
    store, paths, data = _built(tmp_path_factory, "planted", windows=True)
    yield store, paths, data
    store.close()


@pytest.fixture(scope="session")
def null(tmp_path_factory):
    """The same layout with no entropy and no gap effect (quality is noise around 0.9); no figures; no window
    scores (an older store: predictors from whole documents, with a warning)."""
    store, paths, data = _built(tmp_path_factory, "null", figures=False, enc_slope=0.0, gap_slope=0.0, noise=0.05)
    yield store, paths, data
    store.close()
