SELECT slice_id, kind, definition, params, n_members, parent, created_at
FROM slices
ORDER BY created_at, slice_id
