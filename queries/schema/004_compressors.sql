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

-- One row per (evaluation, system, example). An evaluation (eval_id = hash of everything that decides
-- its rows: compressor, decoder, task, examples' source and construction, budget, decoding) re-run
-- skips the rows it already has, so re-running never duplicates and an interrupted one resumes.
CREATE TABLE evaluations (
    eval_id         VARCHAR NOT NULL,
    run_id          VARCHAR NOT NULL,  -- the run that wrote the row
    system          VARCHAR NOT NULL,  -- compressor_id, or a baseline: full / none / truncate / drop
    compressor_id   VARCHAR,           -- the compressor evaluated (baseline rows: the one they ran beside)
    method          VARCHAR NOT NULL,  -- the compressor's method, or the baseline's name
    decoder_id      VARCHAR,
    task            VARCHAR NOT NULL,  -- reconstruction / qa / span-recall / continuation
    example_id      VARCHAR NOT NULL,
    doc_id          VARCHAR,
    eval_slice      VARCHAR,           -- slice or corpus name, or the QA file
    ratio_target    DOUBLE,
    ratio_actual    DOUBLE,            -- context tokens / slots, counted with the decoder's tokenizer
    n_context_tokens INTEGER,
    n_slots         INTEGER,           -- memory slots, or context tokens kept (baselines)
    memory_bytes    BIGINT,            -- bytes handed to the decoder in place of the context
    f1              DOUBLE,            -- 0..1, SQuAD token F1 (max over gold answers)
    em              DOUBLE,            -- 0..1, SQuAD exact match (max over gold answers)
    bleu            DOUBLE,            -- 0..1, sentence BLEU-4 (sacrebleu)
    compress_ms     DOUBLE,
    decode_ms       DOUBLE,
    prediction      VARCHAR,
    reference       VARCHAR,
    created_at      TIMESTAMP DEFAULT current_timestamp,
    PRIMARY KEY (eval_id, system, example_id)
);
