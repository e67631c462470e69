"""A small store with documents, scores under two models and their gaps, built without any LM."""

from __future__ import annotations

import hashlib
import shutil
from datetime import datetime, timedelta

import numpy as np
import pytest

DOMAINS = ("literature", "code", "encyclopedic")
N_DOCS = 60


def make_docs(n: int = N_DOCS, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    docs = []
    for i in range(n):
        text = f"document {i} " + "word " * int(rng.integers(1, 80))
        docs.append({
            "doc_id": hashlib.sha256(text.encode()).hexdigest(), "corpus": "c1" if i % 2 else "c2",
            "domain": DOMAINS[i % 3], "text": text, "n_chars": len(text),
            "n_bytes": len(text.encode()), "source": f"fixture:{i}",
            "entropy_enc": float(rng.normal(3.0, 1.0)), "surprisal_enc": float(rng.normal(4.0, 1.0)),
            "entropy_dec": float(rng.normal(2.0, 0.5)), "js": float(rng.uniform(0, 0.6)),
        })
    return docs


@pytest.fixture
def docs():
    return make_docs()


@pytest.fixture(scope="session")
def scored_store_file(tmp_path_factory):
    """The scored store built once per session; tests get a copy (see ``scored_store``)."""
    from datacomp.store import open_store

    path = tmp_path_factory.mktemp("scored") / "template.duckdb"
    with open_store(path) as store:
        for model in ("enc", "dec"):
            store.run("curation/fixture_model", {"model_id": f"{model}-000000000000", "name": model,
                                                 "path": f"/nowhere/{model}"})
        with store.transaction():  # one commit, not one per row: keeps the fixture fast
            _insert(store, make_docs(), datetime(2026, 1, 1))
    return path


@pytest.fixture
def scored_store(scored_store_file, tmp_path):
    """60 documents; model 'enc' scores all but the last 5 (and 10 of them also under an older window-32
    row with value 99 that slices must ignore); model 'dec' scores all; gaps enc->dec for every document."""
    from datacomp.store import open_store

    path = tmp_path / "store.duckdb"
    shutil.copyfile(scored_store_file, path)
    with open_store(path) as store:
        yield store


def _insert(store, docs, t0):
    for i, doc in enumerate(docs):
        store.run("curation/fixture_document", {k: doc[k] for k in
                  ("doc_id", "corpus", "domain", "text", "n_chars", "n_bytes", "source")})
        base = {"doc_id": doc["doc_id"], "n_tokens": 10, "n_bytes": doc["n_bytes"], "bits_per_byte": 1.0}
        if i < len(docs) - 5:
            # An older row under window 32 with a misleading value: slices must use the latest row.
            if i < 10:
                store.run("curation/fixture_score", {**base, "model_id": "enc-000000000000", "window_len": 32,
                          "entropy_mean": 99.0, "surprisal_mean": 99.0, "scored_at": t0})
            store.run("curation/fixture_score", {**base, "model_id": "enc-000000000000", "window_len": 64,
                      "entropy_mean": doc["entropy_enc"], "surprisal_mean": doc["surprisal_enc"],
                      "scored_at": t0 + timedelta(days=1)})
        store.run("curation/fixture_score", {**base, "model_id": "dec-000000000000", "window_len": 64,
                  "entropy_mean": doc["entropy_dec"], "surprisal_mean": 1.0, "scored_at": t0})
        store.run("curation/fixture_gap", {"doc_id": doc["doc_id"], "encoder_id": "enc-000000000000",
                  "decoder_id": "dec-000000000000", "kl_enc_dec": 2 * doc["js"], "kl_dec_enc": 3 * doc["js"],
                  "js": doc["js"], "bpb_diff": 0.1})
