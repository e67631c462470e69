-- Members per corpus and domain, with their total characters: what `slice show` summarises.
SELECT d.corpus, d.domain, count(*) AS n_docs, sum(d.n_chars) AS n_chars
FROM slice_members AS m
JOIN documents AS d ON d.doc_id = m.doc_id
WHERE m.slice_id = $name
GROUP BY d.corpus, d.domain
ORDER BY d.corpus, d.domain
