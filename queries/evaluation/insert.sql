-- One (evaluation, system, example) row; an existing row is kept (re-runs never duplicate).
INSERT INTO evaluations (eval_id, run_id, system, compressor_id, method, decoder_id, task, example_id, doc_id,
                         eval_slice, ratio_target, ratio_actual, n_context_tokens, n_slots, memory_bytes,
                         f1, em, bleu, target_nll, compress_ms, decode_ms, prediction, reference)
VALUES ($eval_id, $run_id, $system, $compressor_id, $method, $decoder_id, $task, $example_id, $doc_id,
        $eval_slice, $ratio_target, $ratio_actual, $n_context_tokens, $n_slots, $memory_bytes,
        $f1, $em, $bleu, $target_nll, $compress_ms, $decode_ms, $prediction, $reference)
ON CONFLICT DO NOTHING
