-- Schema version 10: the evaluated windows scored under the TRAINED encoder as well (the compressor's encoder
-- LM after training, adapters on), beside the base encoder's enc_* columns: Finding 1 of "Data Distribution
-- Matters" is stated for entropy under the encoder, and training moves the encoder. NULL for methods whose
-- encoder is not a causal LM (COMI, meanpool) and when the encoder does not share the decoder's tokenizer.
ALTER TABLE window_scores ADD COLUMN tenc_entropy DOUBLE;
ALTER TABLE window_scores ADD COLUMN tenc_surprisal DOUBLE;
ALTER TABLE window_scores ADD COLUMN tenc_bits_per_byte DOUBLE;
