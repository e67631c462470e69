-- Tests only: one document with a domain, bypassing ingestion (which owns the real insert).
INSERT OR IGNORE INTO documents (doc_id, corpus, domain, text, n_chars, n_bytes, source)
VALUES ($doc_id, $corpus, $domain, $text, $n_chars, $n_bytes, $source)
