-- Schema version 1: documents, quarantine, models, runs.
-- doc_id is the hex SHA-256 of the NFC-normalised text, so the same text is one row whatever its source.
CREATE TABLE documents (
    doc_id      VARCHAR PRIMARY KEY,
    corpus      VARCHAR NOT NULL,
    domain      VARCHAR NOT NULL,
    text        VARCHAR NOT NULL,
    n_chars     INTEGER NOT NULL,
    n_bytes     INTEGER NOT NULL,
    source      VARCHAR NOT NULL,   -- file:line / file#row locator of the first occurrence
    meta        JSON,
    run_id      VARCHAR,
    ingested_at TIMESTAMP DEFAULT current_timestamp
);

-- One row per exact duplicate seen: counted, never stored twice.
CREATE TABLE duplicates (
    doc_id   VARCHAR NOT NULL,
    corpus   VARCHAR NOT NULL,
    source   VARCHAR NOT NULL,
    run_id   VARCHAR
);

CREATE SEQUENCE quarantine_seq;
CREATE TABLE quarantine (
    quarantine_id BIGINT PRIMARY KEY DEFAULT nextval('quarantine_seq'),
    corpus   VARCHAR NOT NULL,
    source   VARCHAR NOT NULL,   -- the file
    locator  VARCHAR NOT NULL,   -- file:line, file#row, or the file itself
    reason   VARCHAR NOT NULL,   -- a short machine code, e.g. invalid_json
    detail   VARCHAR,            -- the human-readable explanation
    excerpt  VARCHAR,            -- at most 200 characters of the offending record
    run_id   VARCHAR,
    created_at TIMESTAMP DEFAULT current_timestamp
);

CREATE TABLE corpora (
    corpus      VARCHAR PRIMARY KEY,
    domain      VARCHAR,
    source      VARCHAR,
    license     VARCHAR,
    description VARCHAR,
    created_at  TIMESTAMP DEFAULT current_timestamp
);

CREATE TABLE models (
    model_id      VARCHAR PRIMARY KEY,
    name          VARCHAR NOT NULL,
    path          VARCHAR NOT NULL,
    revision      VARCHAR,         -- content hash of the weights file(s)
    n_params      BIGINT,
    tokenizer_id  VARCHAR,         -- hash of the tokenizer's vocabulary: equal ids = shared tokenizer
    vocab_size    INTEGER,
    context_len   INTEGER,
    architecture  VARCHAR,
    mixture       JSON,            -- {"domain": weight, ...} for models the toolkit pretrained
    train_info    JSON,            -- steps, time, seed, validation perplexity per domain, unigram baseline
    source        VARCHAR,         -- pretrain / folder / gguf / hub
    registered_at TIMESTAMP DEFAULT current_timestamp
);

CREATE TABLE runs (
    run_id      VARCHAR PRIMARY KEY,
    stage       VARCHAR NOT NULL,
    config      JSON,
    config_hash VARCHAR,
    seed        BIGINT,
    status      VARCHAR NOT NULL,   -- running / finished / failed
    started_at  TIMESTAMP,
    finished_at TIMESTAMP,
    environment JSON,               -- python, platform, package versions, threads, device
    timings     JSON,               -- named phase durations in seconds
    counts      JSON,               -- what the stage did (rows read, written, skipped...)
    error       VARCHAR
);
