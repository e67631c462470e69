-- Schema version 7: every evaluation row with its nll_reduction = 1 - target_nll / the target_nll of the
-- none baseline on the same evaluation and example: the share of the no-context loss that what the system
-- handed the decoder removes (0 = useless, 1 = the target is certain; none's own rows are 0).
CREATE VIEW evaluations_scored AS
SELECT e.*, 1 - e.target_nll / nullif(n.target_nll, 0) AS nll_reduction
FROM evaluations e
LEFT JOIN evaluations n ON n.eval_id = e.eval_id AND n.example_id = e.example_id AND n.system = 'none';
