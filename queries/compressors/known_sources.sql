-- Names a --slice/--train-slice may refer to: slices first, then corpora (for error messages).
SELECT 'slice' AS kind, slice_id AS name FROM slices
UNION ALL
SELECT 'corpus' AS kind, corpus AS name FROM (SELECT DISTINCT corpus FROM documents)
ORDER BY kind DESC, name
