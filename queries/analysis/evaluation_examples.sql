-- Every evaluated example of one task: system (compressor id or baseline), method, ratios and metrics;
-- nll_reduction from the evaluations_scored view (schema 007); prediction: the generated text, to count empty
-- and identical outputs (a degenerate system).
SELECT e.eval_id, e.system, e.method, e.compressor_id, e.decoder_id, e.target_nll, e.ratio_target, e.ratio_actual, e.example_id, e.doc_id,
       e.f1, e.em, e.bleu, e.nll_reduction, e.compress_ms, e.decode_ms, e.run_id, e.prediction,
       c.method AS compressor_method, c.ratio AS compressor_ratio
FROM evaluations_scored e
LEFT JOIN compressors c ON c.compressor_id = e.compressor_id
WHERE e.task = $task
ORDER BY e.system, e.example_id
