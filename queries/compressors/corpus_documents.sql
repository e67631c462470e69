-- The documents of a corpus, ordered by doc_id (a content hash: a fixed, arbitrary order).
SELECT doc_id, text
FROM documents
WHERE corpus = $corpus
ORDER BY doc_id
