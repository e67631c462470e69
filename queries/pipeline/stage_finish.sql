UPDATE pipeline_stages
SET status = $status, outputs = $outputs, finished_at = $finished_at, seconds = $seconds, error = $error
WHERE pipeline = $pipeline AND stage = $stage AND execution_id = $execution_id
