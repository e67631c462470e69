-- Unusable records of one batch; the same (corpus, locator, reason) is recorded once across runs.
INSERT INTO quarantine (corpus, source, locator, reason, detail, excerpt, run_id)
SELECT $corpus, b.source, b.locator, b.reason, b.detail, b.excerpt, $run_id
FROM (
    SELECT unnest($sources) AS source, unnest($locators) AS locator, unnest($reasons) AS reason,
           unnest($details) AS detail, unnest($excerpts) AS excerpt
) AS b
WHERE NOT EXISTS (
    SELECT 1 FROM quarantine x
    WHERE x.corpus = $corpus AND x.locator = b.locator AND x.reason = b.reason
)
