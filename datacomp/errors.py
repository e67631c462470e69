"""The one exception type users see as a message rather than a traceback."""


class DatacompError(Exception):
    """A problem the user can fix: bad input, a missing file, a store from a newer version.

    The CLI prints ``str(error)`` and exits with status 2; set DATACOMP_DEBUG=1 for the traceback.
    Messages name the file, line, field or key at fault.
    """
