"""Rows from other stores and from Parquet shard folders into this store, idempotently (`datacomp store
merge`, `datacomp store import`, and the Ray engines' driver importing its actors' shards).

Every incoming row is judged by its table's primary key (read from the catalog):
- added: the store has no row with that key, and every row it refers to (its document, its model...) is
  there (merge_rules.RULES);
- skipped: the store has a row with that key and the two agree: integer and text columns exactly,
  floating-point columns to a relative ``rtol`` or an absolute ``ATOL`` (the same document scored in
  another batch moves the last bits of a float32 mean), ignoring who wrote the row and when (run_id,
  ``*_at``, ``*_ms``);
- refused: the store's row with that key differs (a conflict of identity: the same (document, model,
  window, stride, dtype) with other numbers), or a row it refers to is missing or was refused in the same
  merge. Refused rows are never written; the summary counts them per reason with an example key.
So merging the same source twice adds nothing the second time, and no conflicting row replaces another.

One source (a store file, a shard file) lands in one transaction: all of its rows that are added, or none.
Identifiers in the SQL (queries/merge/) come from the store's catalog and are quoted; values are bound.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Iterator

from datacomp.errors import DatacompError
from datacomp.store.catalog import Catalog, Column, quote
from datacomp.store.db import SCHEMA_VERSION, Store
from datacomp.store.merge_rules import NOT_MERGED, ignored_by_default, merge_order, rule
from datacomp.store.sql import sql

DEFAULT_RTOL = 1e-4   # float32 means re-scored in other batches agree to ~1e-7 relative; another model or
                      # setting moves them by far more (bf16 re-runs may not: pass a larger rtol for those)
ATOL = 1e-6           # and values near zero (a small KL, a bpb difference) to ~5e-8 absolute: measured over
                      # 1,500 documents scored in 188-document blocks against one 1,500-document block
FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")


@dataclasses.dataclass
class TableMerge:
    added: int = 0
    skipped: int = 0
    refused: int = 0
    reasons: dict[str, int] = dataclasses.field(default_factory=dict)   # verdict -> rows (skips and refusals)
    examples: dict[str, str] = dataclasses.field(default_factory=dict)  # verdict -> one key it applied to


@dataclasses.dataclass
class MergeSummary:
    sources: list[str] = dataclasses.field(default_factory=list)
    tables: dict[str, TableMerge] = dataclasses.field(default_factory=dict)
    unreadable: dict[str, str] = dataclasses.field(default_factory=dict)  # source -> why it was not read
    not_merged: dict[str, str] = dataclasses.field(default_factory=dict)  # table -> why it is left out

    def table(self, name: str) -> TableMerge:
        return self.tables.setdefault(name, TableMerge())

    def total(self, field: str) -> int:
        return sum(getattr(t, field) for t in self.tables.values())

    def refusals(self) -> list[str]:
        """One line per refusal reason: table, rows, reason, an example key."""
        return [f"{name}: {n} rows {verdict} (e.g. {merged.examples.get(verdict, '-')})"
                for name, merged in self.tables.items() for verdict, n in merged.reasons.items()
                if verdict.startswith("refused")]


class _Params:
    """Bound parameters for the templated SQL: each literal becomes $p<n>."""

    def __init__(self, **values: Any):
        self.values = dict(values)

    def __call__(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"

    def used_in(self, text: str) -> dict[str, Any]:
        """The parameters ``text`` refers to (DuckDB refuses unused ones)."""
        import re

        named = set(re.findall(r"\$(\w+)", text))
        return {name: value for name, value in self.values.items() if name in named}


def _agree(column: Column, a: str, b: str) -> str:
    left, right = f"{a}.{quote(column.name)}", f"{b}.{quote(column.name)}"
    if column.data_type in FLOAT_TYPES:
        return (f"(({left} IS NULL AND {right} IS NULL) OR "
                f"coalesce(abs({left} - {right}) <= greatest($rtol * greatest(abs({left}), abs({right})), "
                f"$atol), false))")
    return f"({left} IS NOT DISTINCT FROM {right})"


def _merge_table(store: Store, catalog: Catalog, table: str, source_columns: list[str], rtol: float,
                 merged: TableMerge) -> None:
    """Classify and insert the rows of the relation ``merge_source`` into ``table``."""
    columns = [c for c in catalog.columns[table] if c.name in set(source_columns)]
    key = catalog.keys[table]
    missing_key = [k for k in key if k not in source_columns]
    if missing_key:
        raise DatacompError(f"rows for table {table} lack its key column(s) {', '.join(missing_key)}")
    table_rule = rule(table)
    compared = [c for c in columns if c.name not in key and table_rule.compare
                and c.name not in table_rule.ignore and not ignored_by_default(c.name)]
    params = _Params(rtol=rtol, atol=ATOL)
    names = ", ".join(quote(c.name) for c in columns)
    store.con.execute(sql("merge/stage").format(columns=names))

    def key_match(other: str) -> str:
        return " AND ".join(f"r.{quote(k)} = {other}.{quote(k)}" for k in key)

    references = []
    for column, parent in table_rule.references:
        parent_key = catalog.keys.get(parent)
        if column not in source_columns or not parent_key or len(parent_key) != 1:
            continue
        value = f"r.{quote(column)}"
        parent_name = params(parent)
        references.append(
            f"WHEN {value} IS NOT NULL AND {value} IN (SELECT merge_key FROM merge_refused WHERE merge_table = "
            f"{parent_name}) THEN 'refused: its ' || {parent_name} || ' row was refused'")
        references.append(
            f"WHEN {value} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {quote(parent)} p WHERE "
            f"p.{quote(parent_key[0])} = {value}) THEN 'refused: no ' || {parent_name} || ' row for its ' || "
            f"{params(column)}")
    differs = "concat_ws(', ', " + ", ".join(
        f"CASE WHEN NOT {_agree(c, 'r', 's')} THEN {params(c.name)} END" for c in compared) + ")" \
        if compared else params("-")
    example = "concat_ws(', ', " + ", ".join(
        f"{params(k + '=')} || CAST(r.{quote(k)} AS VARCHAR)" for k in key) + ")"
    classify = sql("merge/classify").format(
        table=quote(table), key=", ".join(quote(k) for k in key), example=example,
        first_key=f"r.{quote(key[0])}",
        agree_first=" AND ".join(_agree(c, "r", "f") for c in compared) or "true",
        agree_stored=" AND ".join(_agree(c, "r", "s") for c in compared) or "true",
        differs=differs, references="\n           ".join(references),
        key_first=key_match("f"), key_stored=key_match("s"))
    store.con.execute(classify, params.used_in(classify))
    values = ", ".join(f"coalesce(r.{quote(c.name)}, {c.default})" if c.default and "nextval" not in c.default
                       else f"r.{quote(c.name)}" for c in columns)
    store.con.execute(sql("merge/insert").format(table=quote(table), columns=names, values=values))
    store.run("merge/remember_refused", {"table": table})
    for row in store.rows("merge/verdicts"):
        verdict, n = row["verdict"], int(row["n"])
        kind = verdict.split(":")[0]
        setattr(merged, kind, getattr(merged, kind) + n)
        if kind != "added":
            merged.reasons[verdict] = merged.reasons.get(verdict, 0) + n
            merged.examples.setdefault(verdict, row["example"])
    store.con.execute(sql("merge/finish"))


def merge_relations(store: Store, relations: Iterator[tuple[str, Any]], summary: MergeSummary,
                    rtol: float = DEFAULT_RTOL) -> None:
    """Merge one source given as (table, Arrow table or record-batch reader) pairs, parents first, in one
    transaction. Rows for a table this store does not have are refused."""
    catalog = Catalog(store)
    mergeable = set(catalog.mergeable())
    with store.transaction():
        store.run("merge/start")
        for table, relation in relations:
            if table not in mergeable:
                merged = summary.table(table)
                n = relation.num_rows if hasattr(relation, "num_rows") else sum(b.num_rows for b in relation)
                verdict = "refused: no such table in this store"
                merged.refused += n
                merged.reasons[verdict] = merged.reasons.get(verdict, 0) + n
                continue
            store.con.register("merge_source", relation)   # replaces the previous table's relation
            _merge_table(store, catalog, table, list(relation.schema.names), rtol, summary.table(table))
            store.con.unregister("merge_source")


# ---------------------------------------------------------------- sources
def merge_stores(store: Store, paths: list[str | Path], rtol: float = DEFAULT_RTOL) -> MergeSummary:
    """Merge other store files into ``store``, each in its own transaction (`datacomp store merge`)."""
    import duckdb

    summary = MergeSummary()
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise DatacompError(f"no store at {path}")
        if path.resolve() == Path(store.path).resolve():
            raise DatacompError(f"{path} is the store being merged into")
        try:
            source = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as error:
            summary.unreadable[str(path)] = f"cannot open: {error}"
            continue
        try:
            tables = {r[0] for r in source.execute(sql("merge/catalog")).fetchall()}
            if "schema_version" not in tables:
                summary.unreadable[str(path)] = "not a datacomp store (no schema_version table)"
                continue
            version = source.execute("SELECT max(version) FROM schema_version").fetchall()[0][0] or 0
            if version > SCHEMA_VERSION:
                summary.unreadable[str(path)] = (f"schema version {version}, but this datacomp knows versions up "
                                                 f"to {SCHEMA_VERSION}: upgrade datacomp to merge it")
                continue
            if version < SCHEMA_VERSION:   # an older store: merge its migrated copy (columns later versions
                source.close()             # added, e.g. compressors.decoder_tuned, get their backfilled values)
                older = Store(path, read_only=True)
                source = _ClosingConnection(older)
                tables = {r[0] for r in source.execute(sql("merge/catalog")).fetchall()}
            order = merge_order(sorted(tables))
            summary.not_merged.update({t: why for t, why in NOT_MERGED.items() if t in tables})

            def relations() -> Iterator[tuple[str, Any]]:
                for table in order:
                    yield table, source.sql(f"SELECT * FROM {quote(table)}").to_arrow_reader()

            merge_relations(store, relations(), summary, rtol)
            summary.sources.append(str(path))
        finally:
            source.close()
    return summary


class _ClosingConnection:
    """A read-only Store's connection that closes the Store (and removes its migrated copy) on close."""

    def __init__(self, store: Store):
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store.con, name)

    def close(self) -> None:
        self._store.close()


def import_shards(store: Store, files: list[Path], rtol: float = DEFAULT_RTOL,
                  remove_imported: bool = False) -> MergeSummary:
    """Import Parquet shard files (store/shards.py), each in its own transaction. A file that cannot be read
    (cut short by a killed writer) is listed in ``unreadable`` and its rows are not imported. With
    ``remove_imported``, a file is deleted once its rows are in the store (the Ray engines' own shards;
    a file with refused rows is kept)."""
    from datacomp.store.shards import ShardUnreadable, read_shard

    summary = MergeSummary()
    catalog_order = Catalog(store).mergeable()
    for path in files:
        try:
            tables = read_shard(path)
        except ShardUnreadable as error:
            summary.unreadable[str(path)] = str(error)
            continue
        ordered = [t for t in catalog_order if t in tables] + sorted(t for t in tables if t not in catalog_order)
        refused_before = summary.total("refused")
        merge_relations(store, ((t, tables[t]) for t in ordered), summary, rtol)
        summary.sources.append(str(path))
        if remove_imported and summary.total("refused") == refused_before:
            Path(path).unlink(missing_ok=True)
    return summary



# ---------------------------------------------------------------- the commands
def _record(store: Store, stage: str, config: dict[str, Any], merge) -> MergeSummary:
    """Run ``merge()`` inside a recorded run whose counts are the summary's."""
    from datacomp.store.runs import record_run

    with record_run(store, stage, config) as run:
        summary = merge()
        for name, merged in summary.tables.items():
            for field in ("added", "skipped", "refused"):
                if getattr(merged, field):
                    run.count(f"{name}_{field}", getattr(merged, field))
        run.count("sources", len(summary.sources))
        run.count("unreadable", len(summary.unreadable))
    return summary


def merge_store_files(store: Store, paths: list[str | Path], rtol: float = DEFAULT_RTOL) -> MergeSummary:
    """`datacomp store merge`: other stores' rows into ``store``, recorded as a run."""
    return _record(store, "merge", {"sources": [str(p) for p in paths], "rtol": rtol},
                   lambda: merge_stores(store, paths, rtol))


def import_folder(store: Store, folder: str | Path, rtol: float = DEFAULT_RTOL) -> MergeSummary:
    """`datacomp store import`: every shard file below ``folder`` into ``store``, recorded as a run."""
    from datacomp.store.shards import shard_files

    files = shard_files(folder)
    if not files:
        raise DatacompError(f"no shard files (*.parquet) below {folder}")
    return _record(store, "import", {"folder": str(folder), "files": len(files), "rtol": rtol},
                   lambda: import_shards(store, files, rtol))
