-- The tasks that have evaluations (for `store results --task` and its error message).
SELECT DISTINCT task FROM evaluations ORDER BY task
