-- Each table's primary key columns: a row's identity when rows are merged.
SELECT table_name, constraint_column_names AS key_columns
FROM duckdb_constraints()
WHERE database_name = current_database() AND schema_name = 'main' AND constraint_type = 'PRIMARY KEY'
