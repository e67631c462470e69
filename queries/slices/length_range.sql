-- slice: length_range
-- description: documents whose length in characters or UTF-8 bytes lies between min and max (inclusive)
-- param: length_col: enum(n_chars, n_bytes) = n_chars
-- param: min: int[0, ]? = null         # keep length >= min
-- param: max: int[0, ]? = null         # keep length <= max
-- param: corpus: str? = null           # only this corpus
-- param: within: slice? = null         # only the members of this slice
--
-- Ordered by length.
SELECT d.doc_id, d.{{length_col}} AS order_key
FROM documents AS d
WHERE ($min IS NULL OR d.{{length_col}} >= $min)
  AND ($max IS NULL OR d.{{length_col}} <= $max)
  AND ($corpus IS NULL OR d.corpus = $corpus)
  AND ($within IS NULL OR d.doc_id IN (SELECT doc_id FROM slice_members WHERE slice_id = $within))
