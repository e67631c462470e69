"""Text normalisation and content ids.

What ``normalize_text`` does, in order (and nothing else; inner whitespace and case are kept):
1. a leading byte-order mark (U+FEFF) is removed;
2. newlines are unified: ``\\r\\n`` and a lone ``\\r`` become ``\\n``;
3. Unicode NFC normalisation (composed characters: "e" + combining acute == "é");
4. blank lines at the start and all whitespace at the end are removed (leading spaces of the first
   non-blank line are kept, so indented code keeps its shape).

``doc_id_of(text)`` is the hex SHA-256 of the UTF-8 bytes of the normalised text: the same text is one
document whatever its source, so re-ingesting adds nothing and exact duplicates are detected by id.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t\f\v]*\n)+")


def normalize_text(text: str) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    return _LEADING_BLANK_LINES.sub("", text).rstrip()


def doc_id_of(normalized_text: str) -> str:
    """Hex SHA-256 of the (already normalised) text's UTF-8 bytes."""
    return hashlib.sha256(normalized_text.encode("utf-8")).hexdigest()
