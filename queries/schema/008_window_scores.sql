-- Schema version 8: predictors of the evaluated text. One row per (evaluation, example): the predictive
-- entropy, surprisal and bits per byte of exactly the context window the compressor read (its tokens under
-- the decoder's tokenizer, after one BOS/EOS prefix token, every token scored once), under the compressor's
-- encoder and its plain decoder (adapters off), their token-level gap when they share a tokenizer, and the
-- window's length. Document-level scores (table scores) describe the whole document instead.
CREATE TABLE window_scores (
    eval_id           VARCHAR NOT NULL,
    example_id        VARCHAR NOT NULL,
    doc_id            VARCHAR,
    encoder_id        VARCHAR,          -- NULL: no encoder (a baselines-only evaluation)
    decoder_id        VARCHAR NOT NULL,
    n_tokens          INTEGER NOT NULL, -- tokens of the window (the decoder's tokenizer)
    n_bytes           INTEGER NOT NULL, -- UTF-8 bytes of the window's text
    enc_entropy       DOUBLE,           -- nats/token, mean over the window's tokens
    enc_surprisal     DOUBLE,
    enc_bits_per_byte DOUBLE,
    dec_entropy       DOUBLE,
    dec_surprisal     DOUBLE,
    dec_bits_per_byte DOUBLE,
    kl_enc_dec        DOUBLE,           -- NULL unless encoder and decoder share a tokenizer
    kl_dec_enc        DOUBLE,
    js                DOUBLE,
    run_id            VARCHAR,
    created_at        TIMESTAMP DEFAULT current_timestamp,
    PRIMARY KEY (eval_id, example_id)
);
