UPDATE runs
SET status = $status, finished_at = $finished_at, timings = $timings, counts = $counts, error = $error
WHERE run_id = $run_id
