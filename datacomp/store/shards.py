"""Parquet shards: rows for any of the store's tables, made where the store cannot be opened (a Ray actor,
possibly on another machine) and imported by the merge (store/merge.py, `datacomp store import DIR`).

The driver reads its store's catalog once (``shard_schema``) and hands the schema to the workers, so rows
keep the store's exact column types. Each table is one struct column named after it whose fields are that
table's columns; a row of the file fills exactly one of them. Score and gap rows, evaluation rows, and the
rows of any table a later schema migration adds therefore travel in one file, and a file is imported in one
transaction. A column the store does not have is an error when the shard is made, never a silent drop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import pyarrow as pa

from datacomp.errors import DatacompError

SUFFIX = ".parquet"


class ShardUnreadable(Exception):
    """A shard file that is not a readable shard (cut short by a killed writer, or not a shard at all)."""


def shard_schema(store, tables: Sequence[str] | None = None) -> pa.Schema:
    """One struct field per table (default: every table the merge takes), its fields the table's columns."""
    from datacomp.store.catalog import Catalog, arrow_schema

    catalog = Catalog(store)
    fields = []
    for table in tables or catalog.mergeable():
        if table not in catalog.columns:
            raise DatacompError(f"no table {table!r} in {store.path}")
        fields.append(pa.field(table, pa.struct(list(arrow_schema(store, table)))))
    return pa.schema(fields)


def shard_table(rows: dict[str, list[dict[str, Any]]], schema: pa.Schema) -> pa.Table:
    """Rows per table as one shard table (the columns a row leaves out are NULL, or their default on import)."""
    unknown = sorted(set(rows) - set(schema.names))
    if unknown:
        raise DatacompError(f"rows for table(s) {', '.join(unknown)}, which the shard schema does not have "
                            f"(it has {', '.join(schema.names)})")
    total = sum(len(table_rows) for table_rows in rows.values())
    arrays, offset = [], 0
    for field in schema:
        table_rows = rows.get(field.name, [])
        if table_rows:
            known = {f.name for f in field.type}
            extra = sorted({key for row in table_rows for key in row} - known)
            if extra:
                raise DatacompError(f"rows for table {field.name} have column(s) {', '.join(extra)} that the "
                                    "store does not have")
        values = [None] * offset + list(table_rows) + [None] * (total - offset - len(table_rows))
        arrays.append(pa.array(values, type=field.type))
        offset += len(table_rows)
    return pa.Table.from_arrays(arrays, schema=schema)


def read_shard(path: str | Path) -> dict[str, pa.Table]:
    """The rows of one shard file per table (tables without rows left out)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise ShardUnreadable(str(error)) from error
    tables = {}
    for name in table.column_names:
        column = table.column(name)
        if not pa.types.is_struct(column.type):
            raise ShardUnreadable(f"column {name} is {column.type}, not a struct of a table's rows")
        present = pc.filter(column, column.is_valid())
        if len(present):
            tables[name] = pa.Table.from_struct_array(present)
    return tables


def shard_files(folder: str | Path) -> list[Path]:
    """Every shard file below ``folder``, in name order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatacompError(f"no shard folder at {folder}")
    return sorted(p for p in folder.rglob(f"*{SUFFIX}") if p.is_file())
