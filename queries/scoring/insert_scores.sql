-- Rows of one batch, registered by the engine as the relation `score_rows`; a re-scored document
-- replaces its row, so there is exactly one per (doc_id, model_id, window_len, stride, dtype).
INSERT OR REPLACE INTO scores BY NAME
SELECT * FROM score_rows
