-- Describe a corpus; later ingestions add their inputs to `source` and fill what was unknown.
INSERT INTO corpora (corpus, domain, source, license, description)
VALUES ($corpus, $domain, $source, $license, $description)
ON CONFLICT (corpus) DO UPDATE SET
    domain = coalesce(corpora.domain, excluded.domain),
    source = CASE
        WHEN corpora.source IS NULL THEN excluded.source
        WHEN excluded.source IS NULL OR contains(corpora.source, excluded.source) THEN corpora.source
        ELSE corpora.source || '; ' || excluded.source
    END,
    license = coalesce(excluded.license, corpora.license),
    description = coalesce(excluded.description, corpora.description)
