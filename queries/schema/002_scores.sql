-- Schema version 2: per-document scores under one model, and the encoder-decoder gap.
-- One row per (document, model, window_len, stride, dtype): the window and stride change the numbers.
CREATE TABLE scores (
    doc_id          VARCHAR NOT NULL,
    model_id        VARCHAR NOT NULL,
    window_len        INTEGER NOT NULL,   -- tokens the model sees at once
    stride          INTEGER NOT NULL,   -- new tokens scored per window after the first
    dtype           VARCHAR NOT NULL,   -- float32 / bfloat16: the precision the model ran in
    n_tokens        INTEGER,            -- tokens that received a score
    n_bytes         INTEGER,            -- UTF-8 bytes of the scored text
    surprisal_mean  DOUBLE,             -- nats per token
    surprisal_std   DOUBLE,
    entropy_mean    DOUBLE,             -- predictive entropy, nats per token
    entropy_std     DOUBLE,
    bits_per_byte   DOUBLE,
    null_reason     VARCHAR,            -- why the metrics are NULL (empty / one token), else NULL
    run_id          VARCHAR,
    scored_at       TIMESTAMP DEFAULT current_timestamp,
    PRIMARY KEY (doc_id, model_id, window_len, stride, dtype)
);

CREATE TABLE gaps (
    doc_id      VARCHAR NOT NULL,
    encoder_id  VARCHAR NOT NULL,
    decoder_id  VARCHAR NOT NULL,
    window_len    INTEGER NOT NULL,
    stride      INTEGER NOT NULL,
    dtype       VARCHAR NOT NULL,
    method      VARCHAR NOT NULL,   -- 'token' (shared tokenizer: KL/JS) or 'bpb_diff' (tokenizers differ)
    n_tokens    INTEGER,
    kl_enc_dec  DOUBLE,             -- mean over tokens of KL(p_enc || p_dec), nats
    kl_dec_enc  DOUBLE,
    js          DOUBLE,             -- Jensen-Shannon divergence, nats, at most ln 2
    js_std      DOUBLE,
    bpb_diff    DOUBLE,             -- bits_per_byte(encoder) - bits_per_byte(decoder)
    null_reason VARCHAR,
    run_id      VARCHAR,
    scored_at   TIMESTAMP DEFAULT current_timestamp,
    PRIMARY KEY (doc_id, encoder_id, decoder_id, window_len, stride, dtype)
);
