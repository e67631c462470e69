-- Tests only: one gaps row, bypassing the scoring engine.
INSERT INTO gaps (doc_id, encoder_id, decoder_id, window_len, stride, dtype, method, n_tokens,
                  kl_enc_dec, kl_dec_enc, js, bpb_diff)
VALUES ($doc_id, $encoder_id, $decoder_id, 64, 0, 'float32', 'token', 10, $kl_enc_dec, $kl_dec_enc,
        $js, $bpb_diff)
