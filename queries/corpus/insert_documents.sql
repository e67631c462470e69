-- New documents of one batch (the caller has removed ids already stored); lists are zipped by unnest.
INSERT INTO documents (doc_id, corpus, domain, text, n_chars, n_bytes, source, meta, run_id)
SELECT b.doc_id, $corpus, b.domain, b.text, b.n_chars, b.n_bytes, b.source, b.meta::JSON, $run_id
FROM (
    SELECT unnest($doc_ids) AS doc_id, unnest($domains) AS domain, unnest($texts) AS text,
           unnest($n_chars) AS n_chars, unnest($n_bytes) AS n_bytes, unnest($sources) AS source,
           unnest($metas) AS meta
) AS b
