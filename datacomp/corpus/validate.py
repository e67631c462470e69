"""From a raw record to a document, or to a rejection with a reason: the same rules for every format."""

from __future__ import annotations

import json
from dataclasses import dataclass

from datacomp.corpus import quarantine as q
from datacomp.corpus.normalize import doc_id_of, normalize_text
from datacomp.corpus.records import RawRecord, Rejected


@dataclass(frozen=True)
class Document:
    """A usable record: normalised text, its content id, where it came from, its other fields."""

    doc_id: str
    text: str
    domain: str
    source: str    # the file
    locator: str   # file:line / file#row of this occurrence
    meta: str      # the record's other fields as a JSON object


@dataclass(frozen=True)
class Rules:
    text_field: str
    default_domain: str
    domain_field: str | None
    max_chars: int


def _domain(record: RawRecord, rules: Rules) -> str:
    """The record's --domain-field value, else its subfolder's name (--domain-from-subfolder), else
    --domain (or the corpus name): the most specific wins."""
    if rules.domain_field:
        value = record.fields.get(rules.domain_field)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return record.domain or rules.default_domain


def validate(record: RawRecord, rules: Rules) -> Document | Rejected:
    fields = record.fields
    field = rules.text_field
    reject = lambda reason, detail, shown="": Rejected(  # noqa: E731 - a local shorthand
        record.source, record.locator, reason, detail, q.excerpt(shown))
    if field not in fields or fields[field] is None:
        present = ", ".join(sorted(str(k) for k in fields)) or "none"
        state = "is null" if field in fields else "is missing"
        return reject(q.MISSING_FIELD, f"field {field!r} {state} (fields: {present})",
                      json.dumps(fields, default=str))
    value = fields[field]
    if not isinstance(value, str):
        return reject(q.NON_STRING_FIELD, f"field {field!r} is {type(value).__name__}, expected a string", value)
    text = normalize_text(value)
    if not text.strip():
        return reject(q.EMPTY_TEXT, f"field {field!r} is empty or whitespace only", value)
    if len(text) > rules.max_chars:
        return reject(q.TOO_LONG, f"field {field!r} has {len(text)} characters, over the limit of "
                                  f"{rules.max_chars} (--max-chars)", text)
    meta = {k: v for k, v in fields.items() if k != field}
    return Document(doc_id=doc_id_of(text), text=text, domain=_domain(record, rules), source=record.source,
                    locator=record.locator, meta=json.dumps(meta, default=str, ensure_ascii=False))
