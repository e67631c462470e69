-- Every trained compressor, newest first.
SELECT compressor_id, method, ratio, encoder_id, decoder_id, train_slice, checkpoint, created_at
FROM compressors ORDER BY created_at DESC, compressor_id
