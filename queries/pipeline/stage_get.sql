SELECT pipeline, stage, stage_type, config_hash, upstream, execution_id, status, outputs, started_at,
       finished_at, seconds, error
FROM pipeline_stages
WHERE pipeline = $pipeline AND stage = $stage
