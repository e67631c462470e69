SELECT run_id, stage, status, seed, started_at, finished_at, config_hash, counts, error
FROM runs
ORDER BY started_at DESC
LIMIT $limit
