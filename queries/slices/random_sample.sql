-- slice: random_sample
-- description: a seeded random sample of a given size (all documents if fewer are in scope)
-- param: size: int[1, ]                # number of documents
-- param: seed: int = 0
-- param: corpus: str? = null           # only this corpus
-- param: domain: str? = null           # only this domain
-- param: within: slice? = null         # only the members of this slice, e.g. to match another slice's size
--
-- The order is md5('<seed>:<doc_id>'): the same seed always draws the same documents, independent of
-- DuckDB's random number generator and of the order documents were ingested in.
WITH keyed AS (
    SELECT d.doc_id, md5(CAST($seed AS VARCHAR) || ':' || d.doc_id) AS draw
    FROM documents AS d
    WHERE ($corpus IS NULL OR d.corpus = $corpus)
      AND ($domain IS NULL OR d.domain = $domain)
      AND ($within IS NULL OR d.doc_id IN (SELECT doc_id FROM slice_members WHERE slice_id = $within))
)
SELECT doc_id, draw AS order_key
FROM keyed
ORDER BY draw
LIMIT $size
