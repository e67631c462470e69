SELECT slice_id, kind, definition, sql_hash, params, description, n_members, parent, run_id, created_at
FROM slices
WHERE slice_id = $name
