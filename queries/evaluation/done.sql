-- (system, example_id) pairs an evaluation already holds: what a re-run skips.
SELECT system, example_id FROM evaluations WHERE eval_id = $eval_id
