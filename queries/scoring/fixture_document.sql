-- One document inserted directly (tests and benchmarks that do not go through ingestion).
INSERT INTO documents (doc_id, corpus, domain, text, n_chars, n_bytes, source)
VALUES ($doc_id, $corpus, $domain, $text, length($text), octet_length(encode($text)), $source)
