-- slice: score_threshold
-- description: documents whose score under one model lies between min and max (inclusive; null = unbounded)
-- param: model: model                  # the scoring model, by id, name or path
-- param: score_col: enum(entropy_mean, surprisal_mean, bits_per_byte, entropy_std, surprisal_std, n_tokens) = entropy_mean
-- param: min: float? = null            # keep score >= min
-- param: max: float? = null            # keep score <= max
-- param: window_len: int? = null       # only scores computed with this window; default: any
-- param: within: slice? = null         # only the members of this slice
--
-- A document scored under several windows/strides/dtypes counts once, with its most recent row.
-- Ordered by the score.
WITH scored AS (
    SELECT s.doc_id, s.{{score_col}} AS score
    FROM scores AS s
    WHERE s.model_id = $model
      AND s.{{score_col}} IS NOT NULL
      AND ($window_len IS NULL OR s.window_len = $window_len)
      AND ($within IS NULL OR s.doc_id IN (SELECT doc_id FROM slice_members WHERE slice_id = $within))
    QUALIFY row_number() OVER (
        PARTITION BY s.doc_id ORDER BY s.scored_at DESC, s.window_len DESC, s.stride DESC, s.dtype) = 1
)
SELECT doc_id, score AS order_key
FROM scored
WHERE ($min IS NULL OR score >= $min)
  AND ($max IS NULL OR score <= $max)
