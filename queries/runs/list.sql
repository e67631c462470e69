SELECT run_id, stage, status, seed, started_at, finished_at, config_hash, counts, error, pid, host, heartbeat_at
FROM runs
ORDER BY started_at DESC
LIMIT $limit
