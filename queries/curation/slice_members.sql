-- A slice's members in rank order, with the document's corpus, domain and length.
SELECT m.doc_id, m.rank, m.bucket, d.corpus, d.domain, d.n_chars
FROM slice_members AS m
JOIN documents AS d ON d.doc_id = m.doc_id
WHERE m.slice_id = $name
ORDER BY m.rank, m.doc_id
