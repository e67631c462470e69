-- Every row of one evaluation, for the summary.
SELECT system, method, example_id, doc_id, ratio_actual, n_context_tokens, n_slots, memory_bytes,
       f1, em, bleu, target_nll, compress_ms, decode_ms, prediction, reference
FROM evaluations
WHERE eval_id = $eval_id
ORDER BY system, example_id
