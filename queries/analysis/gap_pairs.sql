-- Mean knowledge gap per (encoder, decoder, method) over the documents scored with both.
SELECT g.encoder_id, g.decoder_id, g.method,
       coalesce(me.name, g.encoder_id) AS encoder_name, coalesce(md.name, g.decoder_id) AS decoder_name,
       count(*) AS n,
       avg(g.js) AS js_mean, avg(g.kl_enc_dec) AS kl_enc_dec_mean, avg(g.kl_dec_enc) AS kl_dec_enc_mean,
       avg(g.bpb_diff) AS bpb_diff_mean
FROM gaps g
LEFT JOIN models me ON me.model_id = g.encoder_id
LEFT JOIN models md ON md.model_id = g.decoder_id
WHERE g.null_reason IS NULL
GROUP BY ALL
ORDER BY encoder_name, decoder_name, g.method
