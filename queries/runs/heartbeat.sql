-- A live run's "still here" stamp (datacomp.store.runs.record_run, via the progress bars).
UPDATE runs SET heartbeat_at = $heartbeat_at WHERE run_id = $run_id AND status = 'running'
