DROP TABLE IF EXISTS merge_incoming;
DROP TABLE IF EXISTS merge_verdicts;
