-- Examples of one evaluation whose window is already scored: what a re-run skips.
SELECT example_id FROM window_scores WHERE eval_id = $eval_id
