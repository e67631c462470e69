"""The one reading of a value typed as text (``--param k=v``, ``--method-config k=v``): words for true, false
and null, and numbers.

true: ``true yes on 1``; false: ``false no off 0``; null (for a field that may be null): ``none null``;
case and surrounding spaces are ignored. A pipeline file needs none of this: TOML has its own true, false,
numbers and strings, and its values are checked as they are (pipeline/typed.py), never re-read from text.
"""

from __future__ import annotations

from typing import Any

TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")
NULL_WORDS = ("none", "null")


def is_null_text(text: str) -> bool:
    return text.strip().lower() in NULL_WORDS


def parse_text(text: str, kind: type) -> Any:
    """``text`` as ``kind`` (bool, int, float or str); a ValueError when it is not one."""
    word = text.strip()
    if kind is bool:
        if word.lower() in TRUE_WORDS:
            return True
        if word.lower() in FALSE_WORDS:
            return False
        raise ValueError(f"{text!r} is not one of {'/'.join(TRUE_WORDS)} or {'/'.join(FALSE_WORDS)}")
    if kind is int:
        return int(word)
    if kind is float:
        return float(word)
    if kind is str:
        return text
    raise ValueError(f"cannot read a {getattr(kind, '__name__', kind)} from text")
