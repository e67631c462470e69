-- Tests only: one document, bypassing ingestion (which owns the real insert).
INSERT INTO documents (doc_id, corpus, domain, text, n_chars, n_bytes, source)
VALUES ($doc_id, $corpus, $domain, $text, $n_chars, $n_bytes, $source)
