-- Per (compressor, document) of one task: quality averaged over the document's examples, beside the
-- document's domain and length, its scores under the compressor's encoder and decoder, and their gap.
-- Each model's scores are taken at its most common (window, stride, dtype) setting, as in scored_models.
-- win_*: the same predictors of the evaluated windows themselves (window_scores, schema 008), averaged over
-- the document's examples; n_window_scored < n_examples means some windows were never scored. win_trained_enc_*:
-- under the trained encoder (schema 010; no document-level counterpart). full_*: the full-context baseline on
-- the same examples (through the compressor's tuned decoder, full@tuned, where it ran), so the compression
-- loss full - system is taken example by example; n_full counts the examples that have it.
WITH score_setting AS (
    SELECT model_id, window_len, stride, dtype,
           row_number() OVER (PARTITION BY model_id
                              ORDER BY count(*) DESC, window_len DESC, stride DESC, dtype) AS rank
    FROM scores WHERE null_reason IS NULL
    GROUP BY model_id, window_len, stride, dtype
), s AS (
    SELECT sc.* FROM scores sc
    JOIN score_setting st USING (model_id, window_len, stride, dtype)
    WHERE st.rank = 1 AND sc.null_reason IS NULL
), gap_setting AS (
    SELECT encoder_id, decoder_id, window_len, stride, dtype,
           row_number() OVER (PARTITION BY encoder_id, decoder_id
                              ORDER BY count(*) DESC, window_len DESC, stride DESC, dtype) AS rank
    FROM gaps WHERE null_reason IS NULL
    GROUP BY encoder_id, decoder_id, window_len, stride, dtype
), g AS (
    SELECT gp.* FROM gaps gp
    JOIN gap_setting st USING (encoder_id, decoder_id, window_len, stride, dtype)
    WHERE st.rank = 1 AND gp.null_reason IS NULL
), quality AS (
    SELECT e.compressor_id, e.doc_id, avg(e.f1) AS f1, avg(e.em) AS em, avg(e.bleu) AS bleu,
           avg(e.nll_reduction) AS nll_reduction, avg(e.ratio_actual) AS ratio_actual, count(*) AS n_examples,
           count(w.example_id) AS n_window_scored, avg(w.n_tokens) AS win_n_tokens,
           avg(w.enc_entropy) AS win_enc_entropy, avg(w.enc_surprisal) AS win_enc_surprisal,
           avg(w.enc_bits_per_byte) AS win_enc_bits_per_byte,
           avg(w.tenc_entropy) AS win_trained_enc_entropy, avg(w.tenc_surprisal) AS win_trained_enc_surprisal,
           avg(w.dec_entropy) AS win_dec_entropy, avg(w.dec_surprisal) AS win_dec_surprisal,
           avg(w.dec_bits_per_byte) AS win_dec_bits_per_byte,
           avg(w.js) AS win_gap_js, avg(w.kl_enc_dec) AS win_gap_kl_enc_dec, avg(w.kl_dec_enc) AS win_gap_kl_dec_enc,
           avg(coalesce(ft.f1, fb.f1)) AS full_f1, avg(coalesce(ft.em, fb.em)) AS full_em,
           avg(coalesce(ft.bleu, fb.bleu)) AS full_bleu,
           avg(coalesce(ft.nll_reduction, fb.nll_reduction)) AS full_nll_reduction,
           count(coalesce(ft.example_id, fb.example_id)) AS n_full
    FROM evaluations_scored e
    LEFT JOIN window_scores w ON w.eval_id = e.eval_id AND w.example_id = e.example_id
    LEFT JOIN evaluations_scored fb ON fb.eval_id = e.eval_id AND fb.example_id = e.example_id AND fb.system = 'full'
    LEFT JOIN evaluations_scored ft ON ft.eval_id = e.eval_id AND ft.example_id = e.example_id
                                   AND ft.system = 'full@tuned'
    WHERE e.task = $task AND e.system = e.compressor_id AND e.doc_id IS NOT NULL
    GROUP BY e.compressor_id, e.doc_id
)
SELECT q.compressor_id, c.method, c.ratio, c.encoder_id, c.decoder_id,
       coalesce(c.decoder_tuned, false) AS decoder_tuned,   -- stored with the row (Compressor.tunes_decoder)
       q.doc_id, d.domain, d.n_chars,
       q.f1, q.em, q.bleu, q.nll_reduction, q.ratio_actual, q.n_examples, q.n_window_scored, q.win_n_tokens,
       q.win_enc_entropy, q.win_enc_surprisal, q.win_enc_bits_per_byte,
       q.win_dec_entropy, q.win_dec_surprisal, q.win_dec_bits_per_byte,
       q.win_trained_enc_entropy, q.win_trained_enc_surprisal,
       q.win_gap_js, q.win_gap_kl_enc_dec, q.win_gap_kl_dec_enc,
       q.full_f1, q.full_em, q.full_bleu, q.full_nll_reduction, q.n_full,
       se.entropy_mean AS enc_entropy, se.surprisal_mean AS enc_surprisal,
       sd.entropy_mean AS dec_entropy, sd.surprisal_mean AS dec_surprisal,
       g.js AS gap_js, g.kl_enc_dec AS gap_kl_enc_dec, g.bpb_diff AS gap_bpb_diff, g.method AS gap_method
FROM quality q
JOIN compressors c ON c.compressor_id = q.compressor_id
JOIN documents d ON d.doc_id = q.doc_id
LEFT JOIN s se ON se.doc_id = q.doc_id AND se.model_id = c.encoder_id
LEFT JOIN s sd ON sd.doc_id = q.doc_id AND sd.model_id = c.decoder_id
LEFT JOIN g ON g.doc_id = q.doc_id AND g.encoder_id = c.encoder_id AND g.decoder_id = c.decoder_id
ORDER BY q.compressor_id, q.doc_id
