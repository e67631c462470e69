"""The store's own description of its tables: columns (in order, with types and defaults) and primary keys.

Read by the merge (store/merge.py: keys judge incoming rows), by the shard writer (store/shards.py: one
struct field per table) and by the writers of computed rows (scoring/rows.py), which take a table's Arrow
schema from here instead of spelling its columns out again beside the DDL.
"""

from __future__ import annotations

import dataclasses
import weakref

import pyarrow as pa

from datacomp.store.db import Store
from datacomp.store.merge_rules import merge_order


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    default: str | None


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


_SCHEMAS: "weakref.WeakKeyDictionary[Store, dict[tuple[str, bool], pa.Schema]]" = weakref.WeakKeyDictionary()


def arrow_schema(store: Store, table: str, defaults: bool = True) -> pa.Schema:
    """The Arrow schema of ``table``'s columns, as the DDL declares them (queries/schema); ``defaults=False``
    leaves out the columns the store fills itself (e.g. ``scored_at DEFAULT current_timestamp``). Read once per
    open store (its schema is migrated when it opens and fixed after): the scoring engine asks every batch."""
    known = _SCHEMAS.setdefault(store, {})
    if (table, defaults) not in known:
        # the name is one of the store's own tables; identifiers cannot be bound parameters
        schema = store.con.sql(f"SELECT * FROM {quote(table)} LIMIT 0").to_arrow_table().schema
        if not defaults:
            filled = {c.name for c in Catalog(store).columns[table] if c.default is not None}
            schema = pa.schema([field for field in schema if field.name not in filled])
        known[(table, defaults)] = schema
    return known[(table, defaults)]


class Catalog:
    """The target store's tables: columns (in order, with types and defaults) and primary keys."""

    def __init__(self, store: Store):
        self.columns: dict[str, list[Column]] = {}
        for row in store.rows("merge/catalog"):
            self.columns.setdefault(row["table_name"], []).append(
                Column(row["column_name"], row["data_type"], row["column_default"]))
        self.keys = {row["table_name"]: list(row["key_columns"]) for row in store.rows("merge/primary_keys")}

    def mergeable(self) -> list[str]:
        return merge_order([t for t in self.columns if t in self.keys])
