"""Why a record could not be used: the reason codes written to ``quarantine.reason``."""

from __future__ import annotations

INVALID_JSON = "invalid_json"          # a jsonl line that is not JSON, or JSON but not an object
MISSING_FIELD = "missing_field"        # the text field (key / column) is absent or null
NON_STRING_FIELD = "non_string_field"  # the text field is a number, list, bytes... (incl. a parquet column type)
EMPTY_TEXT = "empty_text"              # empty or whitespace-only after normalisation
INVALID_UTF8 = "invalid_utf8"          # bytes that do not decode as UTF-8 (a jsonl/csv line, a whole txt file)
TOO_LONG = "too_long"                  # more characters than --max-chars after normalisation
UNREADABLE_FILE = "unreadable_file"    # permission denied, corrupt gzip/parquet/csv, an unloadable dataset
UNSUPPORTED_FORMAT = "unsupported_format"  # a file whose extension no reader handles

REASONS = (INVALID_JSON, MISSING_FIELD, NON_STRING_FIELD, EMPTY_TEXT, INVALID_UTF8, TOO_LONG,
           UNREADABLE_FILE, UNSUPPORTED_FORMAT)

EXCERPT_CHARS = 200  # enough to recognise the record in the quarantine table without storing it whole


def excerpt(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text[:EXCERPT_CHARS]
