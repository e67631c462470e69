-- Slices derived from this one (splits, curricula): stale when it is replaced.
SELECT slice_id FROM slices WHERE parent = $name ORDER BY slice_id
