-- The documents of a slice in slice order (rank: curricula keep their order), ties by doc_id.
SELECT d.doc_id, d.text
FROM slice_members m JOIN documents d ON d.doc_id = m.doc_id
WHERE m.slice_id = $slice
ORDER BY m.rank, d.doc_id
