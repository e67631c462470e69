-- A slice's members in rank order with their text and every score and gap measured on them
-- (lists of structs, one per model / encoder-decoder pair and window, stride, dtype).
WITH members AS (
    SELECT doc_id, rank, bucket FROM slice_members WHERE slice_id = $name
),
member_scores AS (
    SELECT s.doc_id,
           list({'model_id': s.model_id, 'model': mo.name, 'window_len': s.window_len, 'stride': s.stride,
                 'dtype': s.dtype, 'n_tokens': s.n_tokens, 'surprisal_mean': s.surprisal_mean,
                 'surprisal_std': s.surprisal_std, 'entropy_mean': s.entropy_mean,
                 'entropy_std': s.entropy_std, 'bits_per_byte': s.bits_per_byte}
                ORDER BY s.model_id, s.window_len, s.stride, s.dtype) AS scores
    FROM scores AS s
    LEFT JOIN models AS mo ON mo.model_id = s.model_id
    WHERE s.doc_id IN (SELECT doc_id FROM members)
    GROUP BY s.doc_id
),
member_gaps AS (
    SELECT g.doc_id,
           list({'encoder_id': g.encoder_id, 'decoder_id': g.decoder_id, 'window_len': g.window_len,
                 'stride': g.stride, 'dtype': g.dtype, 'method': g.method, 'kl_enc_dec': g.kl_enc_dec,
                 'kl_dec_enc': g.kl_dec_enc, 'js': g.js, 'bpb_diff': g.bpb_diff}
                ORDER BY g.encoder_id, g.decoder_id, g.window_len, g.stride, g.dtype) AS gaps
    FROM gaps AS g
    WHERE g.doc_id IN (SELECT doc_id FROM members)
    GROUP BY g.doc_id
)
SELECT m.doc_id, m.rank, m.bucket, d.corpus, d.domain, d.text, d.n_chars, d.n_bytes,
       ms.scores, mg.gaps
FROM members AS m
JOIN documents AS d ON d.doc_id = m.doc_id
LEFT JOIN member_scores AS ms ON ms.doc_id = m.doc_id
LEFT JOIN member_gaps AS mg ON mg.doc_id = m.doc_id
ORDER BY m.rank, m.doc_id
