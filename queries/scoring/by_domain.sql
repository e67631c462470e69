-- Per corpus and domain: mean encoder and decoder metrics and the gap, for one (encoder, decoder,
-- window, stride, dtype). Documents with NULL metrics (empty, one token) are counted apart.
SELECT d.corpus, d.domain,
       count(*)                                   AS n_docs,
       count(e.surprisal_mean)                    AS n_scored,
       sum(e.n_tokens)                            AS enc_tokens,
       avg(e.entropy_mean)                        AS enc_entropy,
       avg(e.surprisal_mean)                      AS enc_surprisal,
       sum(e.surprisal_mean * e.n_tokens) / ln(2) / sum(CASE WHEN e.surprisal_mean IS NOT NULL THEN e.n_bytes END) AS enc_bpb,
       avg(x.entropy_mean)                        AS dec_entropy,
       avg(x.surprisal_mean)                      AS dec_surprisal,
       sum(x.surprisal_mean * x.n_tokens) / ln(2) / sum(CASE WHEN x.surprisal_mean IS NOT NULL THEN x.n_bytes END) AS dec_bpb,
       avg(g.kl_enc_dec)                          AS kl_enc_dec,
       avg(g.kl_dec_enc)                          AS kl_dec_enc,
       avg(g.js)                                  AS js,
       avg(g.bpb_diff)                            AS bpb_diff
FROM gaps g
JOIN documents d USING (doc_id)
JOIN scores e ON e.doc_id = g.doc_id AND e.model_id = g.encoder_id AND e.window_len = g.window_len
             AND e.stride = g.stride AND e.dtype = g.dtype
JOIN scores x ON x.doc_id = g.doc_id AND x.model_id = g.decoder_id AND x.window_len = g.window_len
             AND x.stride = g.stride AND x.dtype = g.dtype
WHERE g.encoder_id = $encoder_id AND g.decoder_id = $decoder_id
  AND g.window_len = $window_len AND g.stride = $stride AND g.dtype = $dtype
GROUP BY d.corpus, d.domain
ORDER BY d.corpus, d.domain
