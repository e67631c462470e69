-- A slice's members with one score each, for ordering a curriculum. $by names the column; it is
-- matched here against a fixed set (a CASE, so nothing is spliced into this text). Score columns use
-- the member's most recent scores row under $model (optionally only for $window_len); document
-- columns (n_chars, n_bytes) need no model. score is NULL for members that have no such score.
WITH latest AS (
    SELECT s.*
    FROM scores AS s
    WHERE s.model_id = $model
      AND ($window_len IS NULL OR s.window_len = $window_len)
      AND s.doc_id IN (SELECT doc_id FROM slice_members WHERE slice_id = $name)
    QUALIFY row_number() OVER (
        PARTITION BY s.doc_id ORDER BY s.scored_at DESC, s.window_len DESC, s.stride DESC, s.dtype) = 1
)
SELECT m.doc_id, m.rank,
       CASE $by
           WHEN 'entropy_mean' THEN l.entropy_mean
           WHEN 'surprisal_mean' THEN l.surprisal_mean
           WHEN 'bits_per_byte' THEN l.bits_per_byte
           WHEN 'entropy_std' THEN l.entropy_std
           WHEN 'surprisal_std' THEN l.surprisal_std
           WHEN 'n_tokens' THEN CAST(l.n_tokens AS DOUBLE)
           WHEN 'n_chars' THEN CAST(d.n_chars AS DOUBLE)
           WHEN 'n_bytes' THEN CAST(d.n_bytes AS DOUBLE)
       END AS score
FROM slice_members AS m
JOIN documents AS d ON d.doc_id = m.doc_id
LEFT JOIN latest AS l ON l.doc_id = m.doc_id
WHERE m.slice_id = $name
ORDER BY m.rank, m.doc_id
