-- Schema version 9: the restated-segment test (models/copy_test.py) of a model on held-out text of one
-- domain: does the model read its context? One row per (model, domain, segment length, segments scored);
-- re-running the same test replaces its row.
CREATE TABLE copy_tests (
    model_id        VARCHAR NOT NULL,
    domain          VARCHAR NOT NULL,
    segment_tokens  INTEGER NOT NULL,
    segments        INTEGER NOT NULL,
    first_nll       DOUBLE NOT NULL,   -- nats/token, the segment read the first time
    restated_nll    DOUBLE NOT NULL,   -- nats/token, the same segment restated right after it
    reads_context   BOOLEAN NOT NULL,
    run_id          VARCHAR,
    tested_at       TIMESTAMP DEFAULT current_timestamp,
    PRIMARY KEY (model_id, domain, segment_tokens, segments)
);
