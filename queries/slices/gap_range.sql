-- slice: gap_range
-- description: documents whose encoder-decoder gap lies between min and max (inclusive; null = unbounded)
-- param: encoder: model                # by id, name or path
-- param: decoder: model                # by id, name or path
-- param: gap_col: enum(js, kl_enc_dec, kl_dec_enc, bpb_diff) = js
-- param: min: float? = null            # keep gap >= min
-- param: max: float? = null            # keep gap <= max
-- param: window_len: int? = null       # only gaps computed with this window; default: any
-- param: within: slice? = null         # only the members of this slice
--
-- js / kl_* exist only when encoder and decoder share a tokenizer (method 'token'); bpb_diff always.
-- A document measured under several windows/strides/dtypes counts once, with its most recent row.
-- Ordered by the gap.
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
)
SELECT doc_id, gap AS order_key
FROM measured
WHERE ($min IS NULL OR gap >= $min)
  AND ($max IS NULL OR gap <= $max)
