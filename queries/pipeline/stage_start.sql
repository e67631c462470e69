INSERT OR REPLACE INTO pipeline_stages (pipeline, stage, stage_type, config_hash, upstream, execution_id,
                                        status, outputs, config, started_at)
VALUES ($pipeline, $stage, $stage_type, $config_hash, $upstream, $execution_id, 'running', NULL, $config,
        $started_at)
