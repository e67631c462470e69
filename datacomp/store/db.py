"""Opening the store: connection, schema migrations, transactions, table export.

The schema is the ordered list of ``queries/schema/NNN_*.sql`` files. A store records the highest
version it has applied in ``schema_version``; opening an older store applies the missing files in one
transaction, and opening a store written by a newer datacomp is refused with a message that says so.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import duckdb

from datacomp.errors import DatacompError
from datacomp.store.sql import queries_dir, sql

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, Path]]:
    """(version, file) for every schema migration, in order; versions must run 1, 2, 3... with no gap."""
    found = []
    for path in sorted((queries_dir() / "schema").glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    for expected, (version, path) in enumerate(found, start=1):
        if version != expected:
            raise DatacompError(f"schema migrations must be numbered 001, 002...: found {path.name}")
    return found


SCHEMA_VERSION = len(migrations())
EXPORT_FORMATS = ("parquet", "jsonl")  # what Store.export_table writes


def _held_message(path: Path, lock_error: str) -> str:
    """DuckDB lets one process write a file: a second writer gets this line instead of DuckDB's lock error."""
    pid = re.search(r"\(PID (\d+)\)", lock_error)
    holder = f" (PID {pid.group(1)})" if pid else ""
    return (f"store {path} is held by another datacomp process{holder} writing to it: wait for it to finish "
            "(read-only commands such as `datacomp store runs` work meanwhile), or pass another --db")


def default_db_path() -> Path:
    """$DATACOMP_DB, else ./datacomp.duckdb."""
    return Path(os.environ.get("DATACOMP_DB") or "datacomp.duckdb")


class Store:
    """A DuckDB connection with the datacomp schema applied.

    ``store.run("store/table_counts", {...})`` executes a named SQL file with bound parameters;
    ``store.con`` is the raw connection for anything else.
    """

    def __init__(self, path: str | Path, read_only: bool = False, target_version: int | None = None,
                 parents: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise DatacompError(f"store not found: {self.path}")
        if not read_only and not self.path.parent.is_dir():
            # A mistyped folder must not appear on disk: missing folders are made only when the caller says so.
            if not parents:
                raise DatacompError(f"cannot create store {self.path}: no folder {self.path.parent} (create it "
                                    "first, or open_store(..., parents=True))")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.snapshot_dir: Path | None = None    # set when a locked store is read from a copy (see below)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as error:
            if "lock" not in str(error).lower():
                raise DatacompError(f"cannot open store {self.path}: {error}") from error
            if not read_only:
                raise DatacompError(_held_message(self.path, str(error))) from None
            self.con = self._open_snapshot(error)
        try:
            self._migrate(SCHEMA_VERSION if target_version is None else target_version)
        except BaseException:
            self.close()
            raise

    def _open_snapshot(self, lock_error: Exception, attempts: int = 3) -> duckdb.DuckDBPyConnection:
        """Read a store another process holds open for writing (DuckDB locks the file for one writer): copy
        the file and its WAL and open the copy read-only. A checkpoint between the two copies would pair an
        old file with a new WAL, so the copy is kept only when the file is unchanged across both (else
        retried; the check rests on the file's modification time, so it narrows the window rather than closing
        it, and a copy DuckDB cannot read is retried too); what a writer commits after the copy is not seen."""
        import shutil
        import tempfile

        for _ in range(attempts):
            folder = Path(tempfile.mkdtemp(prefix="datacomp-snapshot-"))
            try:
                before = _file_state(self.path)
                copy = _copy_with_wal(self.path, folder)
                unchanged = _file_state(self.path) == before
            except OSError:   # e.g. the WAL removed by a checkpoint between the test and the copy
                unchanged = False
            if unchanged:
                try:
                    connection = duckdb.connect(str(copy), read_only=True)
                except duckdb.Error:
                    shutil.rmtree(folder, ignore_errors=True)
                    continue
                self.snapshot_dir = folder
                return connection
            shutil.rmtree(folder, ignore_errors=True)
        raise DatacompError(f"cannot open store {self.path}: {lock_error} (and no consistent copy of it could be "
                            f"read in {attempts} attempts; try again when the writer is between stages)")

    # ---------------------------------------------------------------- schema
    def _tables(self) -> set[str]:
        rows = self.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
        return {row[0] for row in rows}

    @property
    def schema_version(self) -> int:
        if "schema_version" not in self._tables():
            return 0
        return self.con.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0

    def _migrate(self, target: int) -> None:
        tables = self._tables()
        if tables and "schema_version" not in tables:
            raise DatacompError(
                f"{self.path} is a DuckDB file but not a datacomp store (no schema_version table); "
                "pass another --db path"
            )
        current = self.schema_version
        if current > SCHEMA_VERSION:
            raise DatacompError(
                f"store {self.path} has schema version {current}, but this datacomp "
                f"only knows versions up to {SCHEMA_VERSION}: upgrade datacomp to open it"
            )
        if current >= target:
            return
        if self.snapshot_dir is not None:   # only ever set on a read-only open
            raise DatacompError(f"store {self.path} is being created or migrated by another process (schema "
                                f"version {current} of {target}); try again in a moment")
        if self.read_only:   # reading never writes the file: an older store is read from a migrated copy
            self._read_migrated_copy(target)
            return
        self._apply_migrations(current, target)

    def _read_migrated_copy(self, target: int) -> None:
        """Copy the file (and its WAL) to a temporary folder, migrate the copy and read it read-only; the copy
        is removed on close, like a snapshot's. A dry run or a read command on a store written by an older
        datacomp then sees the current schema while the store itself stays as it was."""
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="datacomp-migrated-"))
        self.con.close()
        copy = _copy_with_wal(self.path, folder)
        self.snapshot_dir = folder
        self.con = duckdb.connect(str(copy))
        self._apply_migrations(self.schema_version, target)
        self.con.close()
        self.con = duckdb.connect(str(copy), read_only=True)

    def _apply_migrations(self, current: int, target: int) -> None:
        with self.transaction():
            if current == 0:
                self.con.execute("CREATE TABLE schema_version (version INTEGER, applied_at TIMESTAMP)")
            for version, path in migrations():
                if current < version <= target:
                    try:
                        self.con.execute(path.read_text(encoding="utf-8"))
                    except duckdb.Error as error:
                        raise DatacompError(
                            f"migrating {self.path} to schema version {version} ({path.name}) failed: {error}"
                        ) from error
                    self.con.execute(
                        "INSERT INTO schema_version VALUES ($v, current_timestamp)", {"v": version}
                    )

    # ---------------------------------------------------------------- queries
    def run(self, name: str, params: dict[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
        """Execute queries/<name>.sql with bound parameters."""
        return self.con.execute(sql(name), params or {})

    def rows(self, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Execute queries/<name>.sql and return the rows as dicts."""
        cursor = self.run(name, params)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: a crash or an exception inside leaves the store as it was."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")

    # ---------------------------------------------------------------- tables
    def table_names(self) -> list[str]:
        return sorted(self._tables())

    def table_counts(self) -> dict[str, int]:
        return {name: self.con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                for name in self.table_names()}

    def export_table(self, table: str, out_path: str | Path, format: str | None = None,
                     overwrite: bool = False) -> int:
        """Write one table to a Parquet or jsonl file (the format follows the extension unless given; an
        existing file is replaced only with ``overwrite``); returns the row count."""
        from datacomp.outputs import resolve_output, write_table

        if table not in self._tables():
            raise DatacompError(f"no table {table!r} in {self.path}; tables: {', '.join(self.table_names())}")
        out_path = Path(out_path)
        fmt = resolve_output(out_path, format, EXPORT_FORMATS, overwrite)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        # The table name is checked against the catalog above; identifiers cannot be bound parameters.
        arrow_table = self.con.sql(f'SELECT * FROM "{table}"').to_arrow_table()
        write_table(arrow_table, out_path, fmt)
        return arrow_table.num_rows

    def close(self) -> None:
        self.con.close()
        if self.snapshot_dir is not None:
            import shutil

            shutil.rmtree(self.snapshot_dir, ignore_errors=True)
            self.snapshot_dir = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _copy_with_wal(path: Path, folder: Path) -> Path:
    """Copy a store file and its write-ahead log (when there is one) into ``folder``; the copy's path."""
    import shutil

    copy = folder / path.name
    shutil.copyfile(path, copy)
    wal = Path(f"{path}.wal")
    if wal.exists():
        shutil.copyfile(wal, f"{copy}.wal")
    return copy


def _file_state(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def open_store(path: str | Path | None = None, read_only: bool = False, parents: bool = False) -> Store:
    """Open (creating the file and migrating as needed) the store at ``path`` or the default location; its
    folder must exist unless ``parents`` (then missing folders are created too)."""
    return Store(path or default_db_path(), read_only=read_only, parents=parents)
