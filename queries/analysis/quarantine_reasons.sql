-- Data audit: quarantined records per corpus and reason, with one example explanation.
SELECT corpus, reason, count(*) AS n, min(detail) AS example_detail
FROM quarantine
GROUP BY corpus, reason
ORDER BY corpus, n DESC, reason
