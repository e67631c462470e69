-- One verdict per incoming row of a table, by its primary key: a later copy of a key within the source is
-- checked against the first copy; a key the store holds is skipped when every compared column agrees
-- (exactly, or within the bound relative tolerance for floating-point columns) and refused otherwise,
-- naming the columns that differ; a new row is refused when a row it refers to is missing or was refused
-- in this merge, else added. The placeholders in braces below are filled with identifiers, or expressions
-- over identifiers, from the catalog; values are bound parameters.
CREATE OR REPLACE TEMP TABLE merge_verdicts AS
WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY merge_row) AS merge_copy
    FROM merge_incoming
)
SELECT r.merge_row,
       {example} AS merge_example,
       CAST({first_key} AS VARCHAR) AS merge_key,
       CASE
           WHEN r.merge_copy > 1 AND ({agree_first}) THEN 'skipped: repeated in the source'
           WHEN r.merge_copy > 1 THEN 'refused: repeated in the source with other values'
           WHEN s.merge_present AND ({agree_stored}) THEN 'skipped: already in the store'
           WHEN s.merge_present THEN 'refused: differs from the stored row in ' || {differs}
           {references}
           ELSE 'added'
       END AS verdict
FROM ranked r
LEFT JOIN ranked f ON r.merge_copy > 1 AND f.merge_copy = 1 AND {key_first}
LEFT JOIN (SELECT *, true AS merge_present FROM {table}) s ON {key_stored}
