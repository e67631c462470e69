-- How many incoming rows got each verdict, with one example key per verdict.
SELECT verdict, count(*) AS n, min(merge_example) AS example
FROM merge_verdicts
GROUP BY verdict
ORDER BY verdict
