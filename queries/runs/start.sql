INSERT INTO runs (run_id, stage, config, config_hash, seed, status, started_at, environment, pid, host, heartbeat_at)
VALUES ($run_id, $stage, $config, $config_hash, $seed, 'running', $started_at, $environment, $pid, $host, $started_at)
