-- Every evaluated example of one task: system (compressor id or baseline), method, ratios and metrics;
-- nll_reduction = 1 - target_nll / the none baseline's target_nll on the same example.
SELECT e.system, e.method, e.compressor_id, e.ratio_target, e.ratio_actual, e.example_id, e.doc_id,
       e.f1, e.em, e.bleu, 1 - e.target_nll / nullif(n.target_nll, 0) AS nll_reduction, e.compress_ms, e.decode_ms, e.run_id,
       c.method AS compressor_method, c.ratio AS compressor_ratio
FROM evaluations e
LEFT JOIN compressors c ON c.compressor_id = e.compressor_id
LEFT JOIN evaluations n ON n.eval_id = e.eval_id AND n.example_id = e.example_id AND n.system = 'none'
WHERE e.task = $task
ORDER BY e.system, e.example_id
