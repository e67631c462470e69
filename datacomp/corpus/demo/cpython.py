"""Code: the standard library source of the running interpreter (PSF licence).

Files: ``*.py`` under ``sysconfig.get_paths()["stdlib"]``, sorted, skipping tests (folders named
test/tests/idle_test), site-packages, __pycache__, and machine-generated modules (encodings/ codec tables,
pydoc_data/ topic dumps). Sections are files; blocks are top-level statements groups: a new block
starts at each top-level ``def``/``class``/decorator, taking the comment lines just above it along.
"""

from __future__ import annotations

import platform
import re
import sysconfig
from pathlib import Path

from datacomp.corpus.demo.base import DemoDomain, DomainUnavailable, Piece
from datacomp.corpus.demo.splitting import ChunkSizes, pack_blocks

SKIPPED_DIRS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__",
                "encodings", "pydoc_data"}
_TOP_LEVEL_START = re.compile(r"^(?:@|def\s|async\s+def\s|class\s)")


def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def stdlib_files(root: Path) -> list[Path]:
    """Python source files below ``root`` minus tests, installed packages and generated modules."""
    return sorted(path for path in root.rglob("*.py")
                  if not SKIPPED_DIRS.intersection(path.relative_to(root).parts[:-1]))


def code_blocks(source: str) -> list[str]:
    """Top-level blocks of a module (see the module docstring); blank lines inside a block are kept."""
    lines = source.replace("\r\n", "\n").split("\n")
    starts = [0]
    for i, line in enumerate(lines):
        if not _TOP_LEVEL_START.match(line) or i == 0:
            continue
        previous = i - 1
        while previous >= 0 and not lines[previous].strip():
            previous -= 1
        if previous >= 0 and lines[previous].startswith("@"):
            continue  # the decorator above already started this block
        start = i
        while start > 0 and lines[start - 1].startswith("#"):
            start -= 1  # comment lines right above belong to the definition
        if start > starts[-1]:
            starts.append(start)
    bounds = [*starts, len(lines)]
    blocks = ["\n".join(lines[a:b]).strip("\n") for a, b in zip(bounds, bounds[1:])]
    return [b.rstrip() for b in blocks if b.strip()]


def file_pieces(source: str, where: str, rel: str, sizes: ChunkSizes = ChunkSizes()) -> list[Piece]:
    """Documents of one module: whole blocks packed; an oversized block (a big class) is cut at blank lines."""
    return [Piece(f"{where}#{i}", chunk, {"file": rel, "chunk": i})
            for i, chunk in enumerate(pack_blocks(code_blocks(source), sizes))]


def gather_from(root: Path) -> list[Piece]:
    pieces: list[Piece] = []
    for path in stdlib_files(root):
        rel = path.relative_to(root).as_posix()
        try:
            source = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # the stdlib is UTF-8; anything else is not what this domain is about
        pieces.extend(file_pieces(source, f"stdlib/{rel}", rel))
    return pieces


def gather(cache_dir: Path) -> list[Piece]:
    root = stdlib_root()
    if not root.is_dir():
        raise DomainUnavailable(f"the standard library source folder {root} does not exist")
    return gather_from(root)


DOMAIN = DemoDomain(
    corpus="cpython", domain="code",
    source=f"stdlib of Python {platform.python_version()}: {stdlib_root()}",
    license="PSF License 2.0",
    description="Python modules of the standard library, cut at top-level def/class boundaries",
    gather=gather,
)
