-- Rows of one batch, registered by the engine as the relation `gap_rows`; one per
-- (doc_id, encoder_id, decoder_id, window_len, stride, dtype).
INSERT OR REPLACE INTO gaps BY NAME
SELECT * FROM gap_rows
