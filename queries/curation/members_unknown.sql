-- doc_ids the definition returned that are not documents of the store.
SELECT doc_id
FROM members_input
WHERE doc_id IS NULL OR doc_id NOT IN (SELECT doc_id FROM documents)
LIMIT 3
