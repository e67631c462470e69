-- Per evaluation of one task: documents evaluated per domain beside the documents its source holds per
-- domain (so a report can say which domains a limit left out). The source is a slice (its members) or a
-- corpus (its documents); a QA file holds no stored documents: its available counts are NULL.
WITH evaluated AS (
    SELECT e.eval_id, any_value(e.eval_slice) AS eval_slice, d.domain, count(DISTINCT e.doc_id) AS n_evaluated
    FROM evaluations e JOIN documents d ON d.doc_id = e.doc_id
    WHERE e.task = $task
    GROUP BY e.eval_id, d.domain
), slices_used AS (
    SELECT DISTINCT eval_id, eval_slice FROM evaluated
), available AS (
    SELECT u.eval_id, d.domain, count(*) AS n_available
    FROM slices_used u
    JOIN slice_members m ON m.slice_id = u.eval_slice
    JOIN documents d ON d.doc_id = m.doc_id
    GROUP BY u.eval_id, d.domain
    UNION ALL
    SELECT u.eval_id, d.domain, count(*) AS n_available
    FROM slices_used u
    JOIN documents d ON d.corpus = u.eval_slice
    WHERE NOT EXISTS (SELECT 1 FROM slice_members m WHERE m.slice_id = u.eval_slice)
    GROUP BY u.eval_id, d.domain
)
SELECT coalesce(v.eval_id, a.eval_id) AS eval_id, coalesce(v.domain, a.domain) AS domain,
       coalesce(v.n_evaluated, 0) AS n_evaluated, a.n_available
FROM evaluated v FULL OUTER JOIN available a ON a.eval_id = v.eval_id AND a.domain = v.domain
ORDER BY eval_id, domain
