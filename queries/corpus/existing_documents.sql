-- Which of these doc_ids are stored already, with the corpus and locator of their first occurrence.
SELECT doc_id, corpus, source
FROM documents
WHERE doc_id IN (SELECT unnest($doc_ids))
