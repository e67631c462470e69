-- Whether a named slice exists, and how many members it has.
SELECT s.slice_id, count(m.doc_id) AS n_members
FROM slices s LEFT JOIN slice_members m ON m.slice_id = s.slice_id
WHERE s.slice_id = $slice
GROUP BY s.slice_id
