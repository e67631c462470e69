-- Provenance: the runs that produced the data (newest first), with config, seed, environment and timings.
SELECT run_id, stage, status, seed, config_hash, config, environment, timings, counts,
       started_at, finished_at, pid, host, heartbeat_at   -- pid..heartbeat_at: store.run_liveness
FROM runs
ORDER BY started_at DESC
LIMIT $limit
