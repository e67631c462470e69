-- The rows classified 'added', a NULL in a column with a default (a timestamp) filled with the default.
INSERT INTO {table} ({columns})
SELECT {values}
FROM merge_incoming r
WHERE r.merge_row IN (SELECT merge_row FROM merge_verdicts WHERE verdict = 'added')
