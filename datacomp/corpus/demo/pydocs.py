"""Technical prose: the Python documentation's reST sources (Debian package python3.11-doc, installed by
``make install-data``; PSF licence). Files: ``**/*.rst.txt`` under the _sources folder, sorted, without
whatsnew/ (changelogs), includes/ and the about/copyright/license/contents pages. Sections are reST
sections (a title line underlined with = - ~ ^ ...); blocks are paragraphs; metadata-only directives
(.. index::, .. module::, .. _label:, ...) and transition lines are dropped.

If those sources are absent, the FOLDOC computing dictionary (apt package dict-foldoc, GFDL) stands in as
corpus ``foldoc``: consecutive entries are packed into documents. If neither is installed the domain is
skipped with a warning that says how to install them.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from datacomp.corpus.demo.base import DemoDomain, DomainUnavailable, Piece
from datacomp.corpus.demo.splitting import ChunkSizes, blocks_of, pack_blocks

DOC_SOURCES = Path("/usr/share/doc/python3.11/html/_sources")
FOLDOC_DICT = Path("/usr/share/dictd/foldoc.dict.dz")
SKIPPED_DIRS = {"whatsnew", "includes"}
SKIPPED_PAGES = {"about.rst.txt", "copyright.rst.txt", "license.rst.txt", "contents.rst.txt", "bugs.rst.txt"}

_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+.:_])\1{2,}\s*$")
_METADATA_BLOCK = re.compile(
    r"^\.\.\s+(?:_[^:]*:|index::|module::|moduleauthor::|sectionauthor::|highlight::|currentmodule::|"
    r"testsetup::|testcleanup::|toctree::|include::|only::|impl-detail::$)")


def rst_sections(text: str) -> list[tuple[str, str]]:
    """(title, body) per reST section; a title is a line directly above an underline at least as long."""
    lines = text.replace("\r\n", "\n").split("\n")
    starts = [(0, "")]
    for i in range(1, len(lines)):
        title = lines[i - 1].strip()
        if _UNDERLINE.match(lines[i]) and title and len(lines[i].rstrip()) >= len(title) \
                and not _UNDERLINE.match(lines[i - 1]):
            begin = i - 2 if i >= 2 and _UNDERLINE.match(lines[i - 2]) else i - 1  # overlined titles
            starts.append((begin, title))
    sections = []
    bounds = [*starts, (len(lines), "")]
    for (begin, title), (end, _) in zip(bounds, bounds[1:]):
        body = "\n".join(lines[begin:end]).strip("\n")
        if body.strip():
            sections.append((title, body))
    return sections


_TOCTREE_ENTRIES = re.compile(r"^(?:\s*[\w./-]+\.rst\s*\n?)+$")


def rst_blocks(body: str) -> list[str]:
    """Paragraph blocks without metadata directives, toctree file lists and transitions ("------")."""
    return [b for b in blocks_of(body) if not _METADATA_BLOCK.match(b.lstrip()) and not _UNDERLINE.match(b.strip())
            and not _TOCTREE_ENTRIES.match(b)]


def rst_pieces(text: str, where: str, rel: str, sizes: ChunkSizes = ChunkSizes()) -> list[Piece]:
    pieces = []
    for title, body in rst_sections(text):
        for i, chunk in enumerate(pack_blocks(rst_blocks(body), sizes)):
            if _UNDERLINE.match(chunk.split("\n")[-1]):
                continue  # only a heading survived: nothing to read
            pieces.append(Piece(f"{where}#{len(pieces)}", chunk, {"file": rel, "section": title, "chunk": i}))
    return pieces


def rst_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.rst.txt")
                  if p.name not in SKIPPED_PAGES and not SKIPPED_DIRS.intersection(p.relative_to(root).parts[:-1]))


def gather_rst(root: Path) -> list[Piece]:
    pieces: list[Piece] = []
    for path in rst_files(root):
        rel = path.relative_to(root).as_posix()
        pieces.extend(rst_pieces(path.read_text(encoding="utf-8"), f"python3.11-doc/{rel}", rel))
    return pieces


def foldoc_entries(text: str) -> list[tuple[str, str]]:
    """(headword, entry) of a dictd source: an entry starts at an unindented line; database-info entries
    (00-database-*) are skipped."""
    entries: list[tuple[str, list[str]]] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line and not line[0].isspace():
            entries.append((line.strip(), [line.rstrip()]))
        elif entries:
            entries[-1][1].append(line.rstrip())
    return [(head, "\n".join(body).strip()) for head, body in entries if not head.startswith("00-database")]


def foldoc_pieces(text: str, where: str, sizes: ChunkSizes = ChunkSizes()) -> list[Piece]:
    """Consecutive dictionary entries packed into documents (an entry is never split unless oversized)."""
    entries = foldoc_entries(text)
    return [Piece(f"{where}#{i}", chunk, {"chunk": i}) for i, chunk in enumerate(pack_blocks([e for _, e in entries], sizes))]


def gather(cache_dir: Path) -> list[Piece]:
    if not DOC_SOURCES.is_dir():
        raise DomainUnavailable(
            f"Python documentation sources not found at {DOC_SOURCES} (install them with `make install-data`, "
            "i.e. apt-get install python3.11-doc)")
    return gather_rst(DOC_SOURCES)


def gather_foldoc(cache_dir: Path) -> list[Piece]:
    if not FOLDOC_DICT.is_file():
        raise DomainUnavailable(f"FOLDOC dictionary not found at {FOLDOC_DICT} (apt-get install dict-foldoc)")
    with gzip.open(FOLDOC_DICT, "rt", encoding="utf-8", errors="replace") as handle:
        return foldoc_pieces(handle.read(), FOLDOC_DICT.name)


DOMAIN = DemoDomain(
    corpus="pydocs", domain="technical",
    source="apt python3.11-doc: html/_sources/**/*.rst.txt",
    license="PSF License 2.0",
    description="Python documentation (reST sources), cut at section and paragraph boundaries",
    gather=gather,
)

FOLDOC_DOMAIN = DemoDomain(
    corpus="foldoc", domain="technical",
    source=f"Debian package dict-foldoc: {FOLDOC_DICT}",
    license="GFDL 1.1+",
    description="Free On-line Dictionary of Computing entries (stand-in when python3.11-doc is absent)",
    gather=gather_foldoc,
)
