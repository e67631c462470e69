-- slice: domain
-- description: every document of the given domains
-- param: domains: list[str]            # e.g. literature,code
-- param: within: slice? = null         # only the members of this slice
--
-- Ordered by domain, then doc_id (a content hash: a stable, pseudo-random order).
SELECT d.doc_id, d.domain AS order_key
FROM documents AS d
WHERE list_contains($domains, d.domain)
  AND ($within IS NULL OR d.doc_id IN (SELECT doc_id FROM slice_members WHERE slice_id = $within))
