"""Running untrusted SQL on a read-only connection to the store.

DuckDB refuses a read-only connection to a file this process already holds open read-write, so the
store's connection is closed for the duration, a read-only one is opened, and the read-write one is
reopened afterwards (also when the query fails). Nothing the SQL does can change the store, and
external access is off: it cannot read or write other files, attach databases or load extensions.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import duckdb

from datacomp.errors import DatacompError
from datacomp.store import Store


@contextmanager
def read_only_connection(store: Store) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to ``store``'s file; ``store.con`` is valid again when the block ends."""
    if store.read_only:
        yield store.con
        return
    store.con.close()
    try:
        try:
            con = duckdb.connect(str(store.path), read_only=True, config={"enable_external_access": False})
        except duckdb.Error as error:
            raise DatacompError(f"cannot open {store.path} read-only to run a user slice definition "
                                f"(is another connection to it open in this process?): {error}") from error
        try:
            yield con
        finally:
            con.close()
    finally:
        store.con = duckdb.connect(str(store.path))
