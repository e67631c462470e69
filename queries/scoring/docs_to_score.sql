-- The documents a scoring run covers, each flagged `done` when every row it would write already exists.
-- Corpora $corpora (every corpus when empty and a slice is given), restricted to the members of slice
-- $slice when it is set; shard $shard_index of $shard_count by the MD5 of doc_id (stable across DuckDB
-- versions and machines, unlike hash()) in exact 128-bit arithmetic (a bound count left uncast turns the
-- modulo into floating point, where a ~2^127 double is even: every document fell in shard 0 of 2, 4, 8...);
-- the first $limit of them by doc_id (NULL = all), chosen before skipping done ones so a resumed run with
-- the same --limit covers the same documents.
-- Done = a scores row for each of $model_ids and, when $encoder_id is set, a gaps row, all at
-- ($window_len, $stride, $dtype).
WITH selected AS (
    SELECT doc_id
    FROM documents
    WHERE (len($corpora) = 0 OR corpus IN (SELECT unnest($corpora)))
      AND ($slice IS NULL OR doc_id IN (SELECT doc_id FROM slice_members WHERE slice_id = $slice))
      AND md5_number(doc_id) % CAST($shard_count AS UHUGEINT) = CAST($shard_index AS UHUGEINT)
    ORDER BY doc_id
    LIMIT $limit
)
SELECT s.doc_id,
       (SELECT count(*) FROM scores c
        WHERE c.doc_id = s.doc_id AND c.model_id IN (SELECT unnest($model_ids))
          AND c.window_len = $window_len AND c.stride = $stride AND c.dtype = $dtype) = len($model_ids)
       AND ($encoder_id IS NULL OR EXISTS (
            SELECT 1 FROM gaps g
            WHERE g.doc_id = s.doc_id AND g.encoder_id = $encoder_id AND g.decoder_id = $decoder_id
              AND g.window_len = $window_len AND g.stride = $stride AND g.dtype = $dtype)) AS done
FROM selected s
ORDER BY s.doc_id
