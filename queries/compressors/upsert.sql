-- Record a trained compressor (re-training the same configuration replaces its row).
INSERT OR REPLACE INTO compressors (compressor_id, method, ratio, encoder_id, decoder_id, train_slice,
                                    checkpoint, config, train_info, run_id, decoder_tuned)
VALUES ($compressor_id, $method, $ratio, $encoder_id, $decoder_id, $train_slice,
        $checkpoint, $config, $train_info, $run_id, $decoder_tuned)
