-- One example's window scores; an existing row is kept (a re-run never duplicates).
INSERT INTO window_scores (eval_id, example_id, doc_id, encoder_id, decoder_id, n_tokens, n_bytes,
                           enc_entropy, enc_surprisal, enc_bits_per_byte, dec_entropy, dec_surprisal,
                           dec_bits_per_byte, kl_enc_dec, kl_dec_enc, js, tenc_entropy, tenc_surprisal,
                           tenc_bits_per_byte, run_id)
VALUES ($eval_id, $example_id, $doc_id, $encoder_id, $decoder_id, $n_tokens, $n_bytes,
        $enc_entropy, $enc_surprisal, $enc_bits_per_byte, $dec_entropy, $dec_surprisal,
        $dec_bits_per_byte, $kl_enc_dec, $kl_dec_enc, $js, $tenc_entropy, $tenc_surprisal,
        $tenc_bits_per_byte, $run_id)
ON CONFLICT DO NOTHING
