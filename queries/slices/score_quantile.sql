-- slice: score_quantile
-- description: documents whose score under one model lies in the quantile range [lo, hi) of that score
-- param: model: model                  # the scoring model, by id, name or path
-- param: score_col: enum(entropy_mean, surprisal_mean, bits_per_byte, entropy_std, surprisal_std, n_tokens) = entropy_mean
-- param: lo: float[0, 1] = 0.0         # lower quantile, inclusive
-- param: hi: float[0, 1] = 1.0         # upper quantile, exclusive; 1.0 includes the maximum
-- param: window_len: int? = null       # only scores computed with this window; default: any
-- param: within: slice? = null         # only the members of this slice
--
-- Quantiles interpolate linearly between scores (quantile_cont, numpy's default), over the scored
-- documents in scope. Adjacent ranges ([0, 0.5), [0.5, 1]) partition the documents. A document scored
-- under several windows/strides/dtypes counts once, with its most recent row. Ordered by the score.
WITH scored AS (
    SELECT s.doc_id, s.{{score_col}} AS score
    FROM scores AS s
    WHERE s.model_id = $model
      AND s.{{score_col}} IS NOT NULL
      AND ($window_len IS NULL OR s.window_len = $window_len)
      AND ($within IS NULL OR s.doc_id IN (SELECT doc_id FROM slice_members WHERE slice_id = $within))
    QUALIFY row_number() OVER (
        PARTITION BY s.doc_id ORDER BY s.scored_at DESC, s.window_len DESC, s.stride DESC, s.dtype) = 1
),
bounds AS (
    SELECT quantile_cont(score, $lo) AS lo_value, quantile_cont(score, $hi) AS hi_value
    FROM scored
)
SELECT doc_id, score AS order_key
FROM scored, bounds
WHERE score >= lo_value
  AND (score < hi_value OR ($hi >= 1.0 AND score <= hi_value))
