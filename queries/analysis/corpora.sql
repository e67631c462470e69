-- Data audit: every corpus (registered or seen in documents) with its documents and characters.
WITH names AS (SELECT corpus FROM corpora UNION SELECT DISTINCT corpus FROM documents)
SELECT n.corpus,
       coalesce(string_agg(DISTINCT d.domain, ', ' ORDER BY d.domain), any_value(c.domain)) AS domains,
       count(d.doc_id) AS n_docs,
       coalesce(sum(d.n_chars), 0) AS n_chars,
       coalesce(sum(d.n_bytes), 0) AS n_bytes,
       any_value(c.source) AS source,
       any_value(c.license) AS license
FROM names n
LEFT JOIN documents d ON d.corpus = n.corpus
LEFT JOIN corpora c ON c.corpus = n.corpus
GROUP BY n.corpus
ORDER BY n.corpus
