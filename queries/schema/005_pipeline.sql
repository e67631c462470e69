-- Schema version 5: what each stage of a pipeline last did, so a re-run skips finished stages.
-- A stage is up to date when it finished with the same config_hash and its dependencies' executions
-- are still the ones it ran after (upstream = {stage: execution_id}).
CREATE TABLE pipeline_stages (
    pipeline     VARCHAR NOT NULL,
    stage        VARCHAR NOT NULL,
    stage_type   VARCHAR NOT NULL,
    config_hash  VARCHAR NOT NULL,   -- hash of the stage type and its config as written in the file
    upstream     JSON,               -- {dependency stage: its execution_id} when this stage ran
    execution_id VARCHAR NOT NULL,   -- new every time the stage runs
    status       VARCHAR NOT NULL,   -- running / finished / failed
    outputs      JSON,               -- what the stage returned; other stages read it as "@stage.key"
    config       JSON,
    started_at   TIMESTAMP,
    finished_at  TIMESTAMP,
    seconds      DOUBLE,
    error        VARCHAR,
    PRIMARY KEY (pipeline, stage)
);
