SELECT stage, stage_type, status, execution_id, config_hash, started_at, finished_at, seconds, error
FROM pipeline_stages
WHERE pipeline = $pipeline
ORDER BY started_at
