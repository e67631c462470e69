INSERT INTO slices (slice_id, kind, definition, sql_hash, params, description, n_members, parent, run_id)
VALUES ($name, $kind, $definition, $sql_hash, $params, $description, $n_members, $parent, $run_id)
