-- Corpora with documents and characters per domain, their source and licence, and how many exact
-- duplicates and quarantined records their ingestions met.
WITH docs AS (
    SELECT corpus, domain, count(*) AS documents, sum(n_chars) AS characters
    FROM documents GROUP BY corpus, domain
), dups AS (
    SELECT corpus, count(*) AS duplicates FROM duplicates GROUP BY corpus
), quar AS (
    SELECT corpus, count(*) AS quarantined FROM quarantine GROUP BY corpus
), names AS (
    SELECT corpus FROM corpora UNION SELECT corpus FROM docs
)
SELECT n.corpus,
       coalesce(d.domain, c.domain) AS domain,
       coalesce(d.documents, 0) AS documents,
       coalesce(d.characters, 0) AS characters,
       coalesce(u.duplicates, 0) AS duplicates,
       coalesce(q.quarantined, 0) AS quarantined,
       c.source,
       c.license
FROM names n
LEFT JOIN corpora c ON c.corpus = n.corpus
LEFT JOIN docs d ON d.corpus = n.corpus
LEFT JOIN dups u ON u.corpus = n.corpus
LEFT JOIN quar q ON q.corpus = n.corpus
ORDER BY n.corpus, domain
