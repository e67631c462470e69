-- Members from the registered table members_input(doc_id, order_key, bucket): rank = position by
-- order_key (nulls last), ties broken by doc_id, 0-based.
INSERT INTO slice_members (slice_id, doc_id, rank, bucket)
SELECT $name, doc_id,
       CAST(row_number() OVER (ORDER BY order_key ASC NULLS LAST, doc_id) - 1 AS INTEGER),
       CAST(bucket AS INTEGER)
FROM members_input
