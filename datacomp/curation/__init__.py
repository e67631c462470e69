"""Curation: named slices of the store (SQL definitions with typed params), curricula, splits, exports."""
