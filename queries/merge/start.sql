-- Keys refused while merging one source, per table: a row whose parent (its model, its document) was
-- refused is refused too.
CREATE OR REPLACE TEMP TABLE merge_refused (merge_table VARCHAR, merge_key VARCHAR)
