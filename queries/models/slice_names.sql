-- Every slice's name (for an error that lists them).
SELECT slice_id FROM slices ORDER BY slice_id
