-- Schema version 4: trained compressors and per-example evaluations.
CREATE TABLE compressors (
    compressor_id  VARCHAR PRIMARY KEY,
    method         VARCHAR NOT NULL,   -- autoencoder / sac / comi / meanpool
    ratio          DOUBLE NOT NULL,    -- target compression ratio r
    encoder_id     VARCHAR,
    decoder_id     VARCHAR,
    train_slice    VARCHAR,
    checkpoint     VARCHAR,            -- folder with safetensors
    config         JSON,
    train_info     JSON,               -- steps, losses, time
    run_id         VARCHAR,
    created_at     TIMESTAMP DEFAULT current_timestamp
);

CREATE TABLE evaluations (
    run_id          VARCHAR NOT NULL,
    system          VARCHAR NOT NULL,  -- compressor_id, or a baseline: full / none / truncate / drop
    compressor_id   VARCHAR,
    method          VARCHAR NOT NULL,
    task            VARCHAR NOT NULL,  -- reconstruction / qa / span-recall / continuation
    example_id      VARCHAR NOT NULL,
    doc_id          VARCHAR,
    eval_slice      VARCHAR,
    ratio_target    DOUBLE,
    ratio_actual    DOUBLE,            -- context tokens / slots, counted with the decoder's tokenizer
    n_context_tokens INTEGER,
    n_slots         INTEGER,
    memory_bytes    BIGINT,
    f1              DOUBLE,
    em              DOUBLE,
    bleu            DOUBLE,
    compress_ms     DOUBLE,
    decode_ms       DOUBLE,
    prediction      VARCHAR,
    reference       VARCHAR,
    created_at      TIMESTAMP DEFAULT current_timestamp,
    PRIMARY KEY (run_id, system, example_id)
);
