-- The store's tables with their columns in order: name, type and default (for `datacomp store merge`).
SELECT c.table_name, c.column_name, c.data_type, c.column_default
FROM duckdb_columns() c
JOIN duckdb_tables() t ON t.database_name = c.database_name AND t.schema_name = c.schema_name
                      AND t.table_name = c.table_name
WHERE c.database_name = current_database() AND c.schema_name = 'main' AND NOT t.temporary
ORDER BY c.table_name, c.column_index
