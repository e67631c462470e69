-- Every document of one domain in a fixed order (by doc_id: a content hash, so a pseudo-random but
-- stable order); the caller splits train/validation by doc_id hash and stops at its character budget.
SELECT doc_id, text
FROM documents
WHERE domain = $domain
ORDER BY doc_id
