-- slice: corpus
-- description: every document of the given corpora
-- param: corpora: list[corpus]         # e.g. demo_literature,demo_code
-- param: within: slice? = null         # only the members of this slice
--
-- Ordered by corpus, then doc_id.
SELECT d.doc_id, d.corpus AS order_key
FROM documents AS d
WHERE list_contains($corpora, d.corpus)
  AND ($within IS NULL OR d.doc_id IN (SELECT doc_id FROM slice_members WHERE slice_id = $within))
