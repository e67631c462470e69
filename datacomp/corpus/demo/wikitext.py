"""Reasonable plain text from MediaWiki markup (not a full parser: the aim is readable prose).

Removed: comments, <ref> footnotes, templates {{...}} (nested), tables {|...|}, files/images/categories
and interlanguage links, <math>/<gallery>-like blocks, remaining HTML tags (their content kept), bold and
italic quotes, magic words (__TOC__), list markers, and whole sections that are mostly links
(References, External links, See also, Further reading, Notes, Bibliography, Sources).
Kept: [[target|label]] -> label, [[target]] -> target, [http://url label] -> label, headings -> their text.
"""

from __future__ import annotations

import re

DROPPED_SECTIONS = {"references", "external links", "see also", "further reading", "notes", "bibliography",
                    "sources", "footnotes", "citations", "notes and references"}
_NON_TEXT_LINK_PREFIXES = ("file:", "image:", "category:", "media:", "wikipedia:", "wp:", "template:", "help:")

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_REF = re.compile(r"<ref\b[^>/]*/>|<ref\b[^>]*>.*?</ref\s*>", re.S | re.I)
_BLOCK_TAGS = re.compile(r"<(math|gallery|timeline|score|syntaxhighlight|source|imagemap|graph)\b[^>]*>.*?</\1\s*>",
                         re.S | re.I)
_TEMPLATE = re.compile(r"\{\{(?:(?!\{\{|\}\}).)*\}\}", re.S)
_TABLE = re.compile(r"\{\|(?:(?!\{\||\|\}).)*\|\}", re.S)
_LINK = re.compile(r"\[\[([^\[\]]*)\]\]")
_EXTERNAL = re.compile(r"\[(?:https?:)?//[^\s\]]+\s*([^\]]*)\]")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_QUOTES = re.compile(r"'{2,}")
_MAGIC = re.compile(r"__[A-Z]+__")
_HEADING = re.compile(r"^(=+)\s*(.*?)\s*\1\s*$")
_LIST_MARK = re.compile(r"^[*#:;]+\s*")
_INTERLANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[a-z]+)?:")


def _remove_nested(pattern: re.Pattern, text: str) -> str:
    """Remove innermost matches until none remain (handles nesting without a parser)."""
    while True:
        text, n = pattern.subn("", text)
        if not n:
            return text


def _link_text(match: re.Match) -> str:
    inner = match.group(1)
    target = inner.split("|", 1)[0].strip().lower()
    if target.startswith(_NON_TEXT_LINK_PREFIXES) or _INTERLANGUAGE.match(target):
        return ""
    return inner.rsplit("|", 1)[-1]


def drop_sections(wikitext: str) -> str:
    """Remove sections whose heading is in DROPPED_SECTIONS, up to the next heading of the same or higher level."""
    kept, skip_level = [], 0
    for line in wikitext.split("\n"):
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            if skip_level and level <= skip_level:
                skip_level = 0
            if not skip_level and heading.group(2).strip().lower() in DROPPED_SECTIONS:
                skip_level = level
        if not skip_level:
            kept.append(line)
    return "\n".join(kept)


def strip_wiki_markup(wikitext: str) -> str:
    text = _COMMENT.sub("", wikitext)
    text = drop_sections(text)
    text = _REF.sub("", text)
    text = _BLOCK_TAGS.sub("", text)
    text = _remove_nested(_TEMPLATE, text)
    text = _remove_nested(_TABLE, text)
    while True:  # innermost links first, so captions holding links inside [[File:...]] go with it
        text, n = _LINK.subn(_link_text, text)
        if not n:
            break
    text = _EXTERNAL.sub(lambda m: m.group(1), text)
    text = _TAG.sub("", text)
    text = _QUOTES.sub("", text)
    text = _MAGIC.sub("", text)
    lines = []
    for line in text.split("\n"):
        heading = _HEADING.match(line)
        if heading:
            line = heading.group(2)
        elif line.startswith(("|", "!", "{|", "|}")):
            continue  # remnants of a table the regex could not close
        else:
            line = _LIST_MARK.sub("", line)
        lines.append(line.strip())
    text = "\n".join(lines)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"\(\s*[,;]?\s*\)", "", text)  # "( )" left where a template stood
    text = re.sub(r" +([,.;:])", r"\1", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
