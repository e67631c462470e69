-- Documents and characters per domain: what a mixture can draw on.
SELECT domain, count(*) AS n_docs, sum(n_chars) AS n_chars
FROM documents
GROUP BY domain
ORDER BY domain
