"""The store's own description of its tables: columns (in order, with types and defaults) and primary keys.

Read by the merge (store/merge.py: keys judge incoming rows) and by the shard writer (store/shards.py: one
struct field per table), which therefore share it from here rather than import each other.
"""

from __future__ import annotations

import dataclasses

from datacomp.store.db import Store
from datacomp.store.merge_rules import merge_order


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    default: str | None


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


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
