-- Tests only: one scores row, bypassing the scoring engine.
INSERT INTO scores (doc_id, model_id, window_len, stride, dtype, n_tokens, n_bytes, surprisal_mean,
                    surprisal_std, entropy_mean, entropy_std, bits_per_byte, scored_at)
VALUES ($doc_id, $model_id, $window_len, 0, 'float32', $n_tokens, $n_bytes, $surprisal_mean,
        0.0, $entropy_mean, 0.0, $bits_per_byte, $scored_at)
