"""The DuckDB store: one file holding documents, scores, slices, runs and evaluations."""

from datacomp.store.db import SCHEMA_VERSION, Store, default_db_path, open_store
from datacomp.store.sql import sql

__all__ = ["SCHEMA_VERSION", "Store", "default_db_path", "open_store", "sql"]
