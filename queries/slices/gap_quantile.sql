-- slice: gap_quantile
-- description: documents whose encoder-decoder gap lies in the quantile range [lo, hi) of that gap
-- param: encoder: model                # by id, name or path
-- param: decoder: model                # by id, name or path
-- param: gap_col: enum(js, kl_enc_dec, kl_dec_enc, bpb_diff) = js
-- param: lo: float[0, 1] = 0.0         # lower quantile, inclusive
-- param: hi: float[0, 1] = 1.0         # upper quantile, exclusive; 1.0 includes the maximum
-- param: window_len: int? = null       # only gaps computed with this window; default: any
-- param: within: slice? = null         # only the members of this slice
--
-- Quantiles interpolate linearly (quantile_cont, numpy's default) over the measured documents in scope;
-- adjacent ranges partition them. A document measured under several windows/strides/dtypes counts once,
-- with its most recent row. Ordered by the gap.
WITH measured AS (
    SELECT g.doc_id, g.{{gap_col}} AS gap
    FROM gaps AS g
    WHERE g.encoder_id = $encoder
      AND g.decoder_id = $decoder
      AND g.{{gap_col}} IS NOT NULL
      AND ($window_len IS NULL OR g.window_len = $window_len)
      AND ($within IS NULL OR g.doc_id IN (SELECT doc_id FROM slice_members WHERE slice_id = $within))
    QUALIFY row_number() OVER (
        PARTITION BY g.doc_id ORDER BY g.scored_at DESC, g.window_len DESC, g.stride DESC, g.dtype) = 1
),
bounds AS (
    SELECT quantile_cont(gap, $lo) AS lo_value, quantile_cont(gap, $hi) AS hi_value
    FROM measured
)
SELECT doc_id, gap AS order_key
FROM measured, bounds
WHERE gap >= lo_value
  AND (gap < hi_value OR ($hi >= 1.0 AND gap <= hi_value))
