-- Every restated-segment test, with the model's name: the newest test per (model, domain) first.
SELECT t.model_id, m.name, t.domain, t.segment_tokens, t.segments, t.first_nll, t.restated_nll,
       t.reads_context, t.run_id, t.tested_at
FROM copy_tests t
LEFT JOIN models m USING (model_id)
ORDER BY m.registered_at, t.model_id, t.domain, t.tested_at DESC
