"""Fixtures: small synthetic two-domain corpora written straight into a store (prose and code), seeded."""

from __future__ import annotations

import hashlib
import random

import pytest

NOUNS = ["king", "river", "garden", "letter", "soldier", "window", "morning", "castle", "friend", "storm"]
VERBS = ["watched", "crossed", "remembered", "opened", "carried", "followed", "answered", "painted"]
ADJECTIVES = ["old", "quiet", "bright", "broken", "distant", "gentle", "heavy", "silver"]


def prose_document(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(3, 6)):
        sentences.append(f"The {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {rng.choice(VERBS)} the "
                         f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}.")
    return " ".join(sentences)


def code_document(rng: random.Random) -> str:
    name = rng.choice(["total", "scale", "merge", "count", "clip"])
    arg = rng.choice(["items", "values", "rows"])
    lines = [f"def {name}_{rng.randint(0, 9)}({arg}):", "    result = 0", f"    for item in {arg}:"]
    for _ in range(rng.randint(1, 3)):
        lines.append(f"        result += item * {rng.randint(1, 9)}")
    lines += ["    return result", ""]
    return "\n".join(lines)


def add_documents(store, domain: str, texts: list[str], corpus: str | None = None) -> None:
    for i, text in enumerate(texts):
        store.run("models/insert_fixture_document", {
            "doc_id": hashlib.sha256(text.encode()).hexdigest(), "corpus": corpus or domain, "domain": domain,
            "text": text, "n_chars": len(text), "n_bytes": len(text.encode()), "source": f"fixture:{i}",
        })


def add_two_domains(store, n_docs: int = 120, seed: int = 0) -> None:
    """``n_docs`` prose documents (domain literature) and as many code documents (domain code)."""
    rng = random.Random(seed)
    add_documents(store, "literature", [prose_document(rng) for _ in range(n_docs)])
    add_documents(store, "code", [code_document(rng) for _ in range(n_docs)])


@pytest.fixture
def add_docs():
    """``add_docs(store, domain, texts)``: documents straight into a store."""
    return add_documents


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory):
    """A module-wide store with 120 prose (literature) and 120 code documents."""
    from datacomp.store import open_store

    with open_store(tmp_path_factory.mktemp("corpus") / "store.duckdb") as opened:
        add_two_domains(opened)
        yield opened
