INSERT OR REPLACE INTO copy_tests (model_id, domain, segment_tokens, segments, first_nll, restated_nll,
                                   reads_context, run_id, tested_at)
VALUES ($model_id, $domain, $segment_tokens, $segments, $first_nll, $restated_nll, $reads_context, $run_id,
        current_timestamp)
