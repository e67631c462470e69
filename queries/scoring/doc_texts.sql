-- Text of the given documents (one block of a scoring run).
SELECT doc_id, text
FROM documents
WHERE doc_id IN (SELECT unnest($doc_ids))
