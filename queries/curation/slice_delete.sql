DELETE FROM slices WHERE slice_id = $name
