-- What a Ray scoring run stored for its documents $doc_ids under one model: documents with NULL metrics
-- (empty, one token) and tokens scored (for the run's summary; the actors' own counters stay with them).
SELECT count(*) FILTER (WHERE null_reason IS NOT NULL) AS docs_null,
       sum(n_tokens) FILTER (WHERE null_reason IS NULL) AS tokens
FROM scores
WHERE doc_id IN (SELECT unnest($doc_ids)) AND model_id = $model_id
  AND window_len = $window_len AND stride = $stride AND dtype = $dtype
