-- Occurrences of texts already stored; an occurrence (doc_id, corpus, locator) is recorded once,
-- so ingesting the same file again adds no rows.
INSERT INTO duplicates (doc_id, corpus, source, run_id)
SELECT b.doc_id, $corpus, b.source, $run_id
FROM (SELECT unnest($doc_ids) AS doc_id, unnest($sources) AS source) AS b
WHERE NOT EXISTS (
    SELECT 1 FROM duplicates d
    WHERE d.doc_id = b.doc_id AND d.corpus = $corpus AND d.source = b.source
)
