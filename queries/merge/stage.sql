-- The rows of one table from the source relation `merge_source`, numbered in their order;
-- the columns below are the target table's columns that the source has (quoted identifiers from the catalog).
CREATE OR REPLACE TEMP TABLE merge_incoming AS
SELECT row_number() OVER () AS merge_row, {columns}
FROM merge_source
