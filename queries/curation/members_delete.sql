DELETE FROM slice_members WHERE slice_id = $name
