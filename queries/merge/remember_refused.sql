-- Remember this table's refused keys, so rows that refer to them are refused as well.
INSERT INTO merge_refused
SELECT $table, merge_key FROM merge_verdicts WHERE verdict LIKE 'refused%'
