-- The documents of one slice (pretraining keeps them out of its training split); no row for an unknown slice
-- name, which slice_exists tells apart from an empty slice.
SELECT doc_id FROM slice_members WHERE slice_id = $name
