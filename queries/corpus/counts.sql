-- Rows of the tables ingestion writes (used to check that a run changed nothing, or what it added).
SELECT (SELECT count(*) FROM documents) AS documents,
       (SELECT count(*) FROM duplicates) AS duplicates,
       (SELECT count(*) FROM quarantine) AS quarantine
