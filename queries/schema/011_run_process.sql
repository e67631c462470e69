-- Schema version 11: which process a run lives in, so a run whose process died (SIGKILL, power loss) is shown
-- as such rather than 'running' forever: on the same host its pid is checked; from another host the age of
-- its heartbeat (stamped as its progress bars advance) is what there is to go on. Status gains 'interrupted'
-- (SIGINT / SIGTERM: the finish row is written on the way out).
ALTER TABLE runs ADD COLUMN pid INTEGER;
ALTER TABLE runs ADD COLUMN host VARCHAR;
ALTER TABLE runs ADD COLUMN heartbeat_at TIMESTAMP;
