"""Encyclopedic: the English Wikipedia excerpt shipped as test data in the gensim wheel
(``gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2``, a
MediaWiki XML dump of ~100 articles, CC BY-SA). Articles (namespace 0, no redirects) are sections; their
paragraphs (after ``strip_wiki_markup``) are blocks; the title heads the article's first document.
"""

from __future__ import annotations

import bz2
import io
import zipfile
from pathlib import Path
from typing import Iterator
from xml.etree import ElementTree

from datacomp.corpus.demo.base import DemoDomain, Piece
from datacomp.corpus.demo.sources import pip_download
from datacomp.corpus.demo.splitting import ChunkSizes, blocks_of, pack_blocks
from datacomp.corpus.demo.wikitext import strip_wiki_markup

REQUIREMENT = "gensim==4.4.0"  # pinned: the excerpt's bytes (hence doc ids) must not move under us
MEMBER = "gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
DUMP_NAME = MEMBER.rsplit("/", 1)[1]


def iter_articles(xml_bytes: bytes) -> Iterator[tuple[str, str]]:
    """(title, wikitext) of every main-namespace, non-redirect page of a MediaWiki XML export."""
    for _, element in ElementTree.iterparse(io.BytesIO(xml_bytes)):
        if not element.tag.endswith("}page") and element.tag != "page":
            continue
        fields = {child.tag.rsplit("}", 1)[-1]: child for child in element}
        namespace = fields.get("ns")
        text_element = None
        revision = fields.get("revision")
        if revision is not None:
            text_element = next((c for c in revision if c.tag.rsplit("}", 1)[-1] == "text"), None)
        title = fields["title"].text if "title" in fields else ""
        wikitext = text_element.text if text_element is not None and text_element.text else ""
        is_article = namespace is None or (namespace.text or "0").strip() == "0"
        if is_article and "redirect" not in fields and not wikitext.lstrip().upper().startswith("#REDIRECT"):
            yield title or "", wikitext
        element.clear()


def article_pieces(title: str, wikitext: str, where: str, sizes: ChunkSizes = ChunkSizes()) -> list[Piece]:
    text = strip_wiki_markup(wikitext)
    blocks = [title, *blocks_of(text)] if title else blocks_of(text)
    return [Piece(f"{where}#{i}", chunk, {"title": title, "chunk": i})
            for i, chunk in enumerate(pack_blocks(blocks, sizes))]


def dump_path(cache_dir: Path) -> Path:
    """The bz2 dump, extracted once from the gensim wheel into the cache."""
    target = cache_dir / DUMP_NAME
    if not target.is_file():
        wheel = pip_download(REQUIREMENT, cache_dir, "gensim-4.4.0-*.whl", binary=True)
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(MEMBER)
        tmp = target.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(target)
    return target


def gather(cache_dir: Path) -> list[Piece]:
    dump = dump_path(cache_dir)
    pieces: list[Piece] = []
    for title, wikitext in iter_articles(bz2.decompress(dump.read_bytes())):
        pieces.extend(article_pieces(title, wikitext, f"{DUMP_NAME}!{title}"))
    return pieces


DOMAIN = DemoDomain(
    corpus="enwiki", domain="encyclopedic",
    source=f"pip wheel {REQUIREMENT}: test_data/enwiki-...-shortened.bz2 (Wikipedia 2016)",
    license="CC BY-SA 3.0",
    description="Wikipedia articles, markup stripped, cut at paragraph boundaries",
    gather=gather,
)
