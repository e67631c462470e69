"""The one exception type users see as a message rather than a traceback."""


class DatacompError(Exception):
    """A problem the user can fix: bad input, a missing file, a store from a newer version.

    The CLI prints ``str(error)`` and exits with status 2; set DATACOMP_DEBUG=1 for the traceback.
    Messages name the file, line, field or key at fault.
    """


def json_error_text(error, with_line: bool = False) -> str:
    """``Expecting value at column 9`` / ``... at line 2, column 9`` for a ``json.JSONDecodeError``. Some of
    json's messages already end in "at" ("Unterminated string starting at"): no second one then."""
    where = f"line {error.lineno}, column {error.colno}" if with_line else f"column {error.colno}"
    return f"{error.msg} {where}" if error.msg.endswith(" at") else f"{error.msg} at {where}"
