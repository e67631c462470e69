-- A doc_id the definition returned more than once (a slice holds each document once).
SELECT doc_id, count(*) AS n
FROM members_input
GROUP BY doc_id
HAVING count(*) > 1
ORDER BY doc_id
LIMIT 3
