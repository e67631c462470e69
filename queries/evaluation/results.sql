-- Every evaluation's systems side by side: one row per (task, decoder, system, target ratio), the metrics
-- as per-example means on 0-1 (F1, EM, BLEU), target_nll in nats/token and nll_reduction (the
-- evaluations_scored view); a compressor's training time and steps from its record.
-- A row is a baseline when its system is not the evaluation's compressor (full, none, truncate, drop,
-- selective, and <name>@tuned through a decoder-tuning compressor's decoder).
-- Baseline rows are pooled over the evaluations of one (task, decoder, ratio), each example once (its rows
-- beside several compressors averaged first), so n counts distinct examples. Example sets may differ between
-- evaluations: compare a compressor with the baselines of its own evaluation (datacomp evaluate prints
-- those) when they do.
WITH rows AS (
    SELECT e.task, e.decoder_id, e.example_id, e.f1, e.em, e.bleu, e.target_nll, e.ratio_actual,
           e.nll_reduction,
           e.system IS DISTINCT FROM e.compressor_id AS is_baseline,
           CASE WHEN e.system IS DISTINCT FROM e.compressor_id THEN e.system ELSE c.method END AS method,
           -- a baseline through a tuned decoder is that compressor's: labelled with it, never pooled
           CASE WHEN e.system LIKE '%@tuned' THEN e.system || ' (' || e.compressor_id || ')'
                WHEN e.system IS DISTINCT FROM e.compressor_id THEN e.system ELSE e.compressor_id END AS system,
           CASE WHEN e.system IN ('full', 'none', 'full@tuned', 'none@tuned') THEN NULL ELSE e.ratio_target END AS ratio_target,
           CASE WHEN e.system IS DISTINCT FROM e.compressor_id THEN NULL
                ELSE CAST(json_extract(c.train_info, '$.seconds') AS DOUBLE) END AS train_seconds,
           CASE WHEN e.system IS DISTINCT FROM e.compressor_id THEN NULL
                ELSE CAST(json_extract(c.train_info, '$.steps') AS INTEGER) END AS train_steps
    FROM evaluations_scored e
    LEFT JOIN compressors c ON c.compressor_id = e.system
    WHERE $task IS NULL OR e.task = $task
), per_example AS (
    SELECT task, decoder_id, is_baseline, method, system, ratio_target, example_id,
           avg(f1) AS f1, avg(em) AS em, avg(bleu) AS bleu, avg(target_nll) AS target_nll,
           avg(ratio_actual) AS ratio_actual, avg(nll_reduction) AS nll_reduction,
           any_value(train_seconds) AS train_seconds, any_value(train_steps) AS train_steps
    FROM rows
    GROUP BY task, decoder_id, is_baseline, method, system, ratio_target, example_id
)
SELECT task, decoder_id, method, system, ratio_target, avg(ratio_actual) AS ratio_actual, count(*) AS n,
       avg(f1) AS f1, avg(em) AS em, avg(bleu) AS bleu, avg(target_nll) AS target_nll,
       avg(nll_reduction) AS nll_reduction, any_value(train_seconds) AS train_seconds,
       any_value(train_steps) AS train_steps
FROM per_example
GROUP BY task, decoder_id, is_baseline, method, system, ratio_target
ORDER BY task, decoder_id, is_baseline, method, ratio_target NULLS FIRST, system
