INSERT INTO runs (run_id, stage, config, config_hash, seed, status, started_at, environment)
VALUES ($run_id, $stage, $config, $config_hash, $seed, 'running', $started_at, $environment)
