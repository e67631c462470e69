SELECT bucket, count(*) AS n_docs, min(rank) AS first_rank, max(rank) AS last_rank
FROM slice_members
WHERE slice_id = $name AND bucket IS NOT NULL
GROUP BY bucket
ORDER BY bucket
