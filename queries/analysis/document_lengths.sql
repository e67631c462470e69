-- Data audit: the length of every document, by domain.
SELECT domain, n_chars, n_bytes
FROM documents
ORDER BY domain, doc_id
