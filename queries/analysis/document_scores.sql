-- Per-document scores under one model at one (window, stride, dtype), with the document's domain and length.
SELECT s.doc_id, d.domain, d.n_chars, s.n_tokens, s.surprisal_mean, s.entropy_mean, s.bits_per_byte
FROM scores s
JOIN documents d ON d.doc_id = s.doc_id
WHERE s.model_id = $model_id AND s.window_len = $window_len AND s.stride = $stride AND s.dtype = $dtype
  AND s.null_reason IS NULL
ORDER BY s.doc_id
