"""Cutting long texts into documents of a size suited to context-compression research.

The rule, the same for every demo domain:
1. a text is first cut into *sections* that documents never cross (a scene of a play, a Wikipedia
   article, a reST section, a Python file);
2. each section into *blocks*, its natural units (speeches, paragraphs, top-level functions/classes,
   dictionary entries), separated by blank lines;
3. consecutive blocks are packed greedily into a document until it reaches ``target_chars``, never
   going over ``max_chars``; a block longer than ``max_chars`` on its own is cut at blank lines, then
   at line ends, then (a single enormous line) every ``max_chars`` characters;
4. a section's trailing document shorter than ``min_chars`` joins the previous one when they fit
   together; any document still shorter than ``min_chars`` is left out (too little to compress).
Everything is deterministic: inputs are read in sorted order and sampling is seeded.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Sequence, TypeVar

T = TypeVar("T")

_BLANK_LINES = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class ChunkSizes:
    min_chars: int = 300      # shorter texts carry too little to compress (a few dozen tokens)
    target_chars: int = 1200  # ~300 tokens: several compression ratios fit in a small model's context
    max_chars: int = 3000     # ~750 tokens: still one window for the small reference LMs


def blocks_of(text: str) -> list[str]:
    """Blank-line separated blocks, stripped of trailing whitespace, empty ones removed."""
    return [b.rstrip() for b in _BLANK_LINES.split(text) if b.strip()]


def split_oversized(block: str, max_chars: int) -> list[str]:
    """Cut one block longer than ``max_chars`` at blank lines, then line ends, then hard."""
    if len(block) <= max_chars:
        return [block]
    for separator in ("\n\n", "\n"):
        parts = block.split(separator)
        if len(parts) > 1:
            out, current = [], ""
            for part in parts:
                candidate = f"{current}{separator}{part}" if current else part
                if len(candidate) <= max_chars:
                    current = candidate
                    continue
                if current:
                    out.append(current)
                if len(part) <= max_chars:
                    current = part
                else:
                    out.extend(split_oversized(part, max_chars))
                    current = ""
            if current:
                out.append(current)
            return out
    return [block[i:i + max_chars] for i in range(0, len(block), max_chars)]


def pack_blocks(blocks: Sequence[str], sizes: ChunkSizes = ChunkSizes()) -> list[str]:
    """Greedy packing of one section's blocks into documents (rule 3 and 4 above)."""
    docs: list[str] = []
    current = ""
    for block in blocks:
        for part in split_oversized(block.strip("\n"), sizes.max_chars):
            if not part.strip():
                continue
            if current and len(current) + 2 + len(part) > sizes.max_chars:
                docs.append(current)
                current = ""
            current = f"{current}\n\n{part}" if current else part
            if len(current) >= sizes.target_chars:
                docs.append(current)
                current = ""
    if current:
        if len(current) >= sizes.min_chars:
            docs.append(current)
        elif docs and len(docs[-1]) + 2 + len(current) <= sizes.max_chars:
            docs[-1] = f"{docs[-1]}\n\n{current}"
    return [d for d in docs if len(d) >= sizes.min_chars]


def sample_deterministic(items: Sequence[T], k: int | None, seed: int) -> list[T]:
    """At most ``k`` items chosen with a seeded RNG, kept in their original order."""
    if k is None or k >= len(items):
        return list(items)
    chosen = sorted(random.Random(seed).sample(range(len(items)), k))
    return [items[i] for i in chosen]
