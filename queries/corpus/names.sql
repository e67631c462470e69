-- Every corpus name the store knows: described in `corpora` or holding documents.
SELECT corpus FROM corpora
UNION
SELECT DISTINCT corpus FROM documents
ORDER BY corpus
