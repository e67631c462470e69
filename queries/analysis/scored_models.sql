-- Every model that has scores, at its most common (window, stride, dtype) setting: the setting the
-- report analyses. Rows at other settings are counted in n_other_settings, not mixed in.
WITH settings AS (
    SELECT model_id, window_len, stride, dtype, count(*) AS n_rows,
           count(*) FILTER (WHERE null_reason IS NULL) AS n_scored,
           count(*) FILTER (WHERE null_reason IS NOT NULL) AS n_null
    FROM scores
    GROUP BY model_id, window_len, stride, dtype
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY model_id
                                 ORDER BY n_scored DESC, window_len DESC, stride DESC, dtype) AS rank,
           sum(n_rows) OVER (PARTITION BY model_id) - n_rows AS n_other_settings
    FROM settings
)
SELECT r.model_id, m.name, r.window_len, r.stride, r.dtype, r.n_scored, r.n_null, r.n_other_settings
FROM ranked r
LEFT JOIN models m ON m.model_id = r.model_id
WHERE r.rank = 1
ORDER BY coalesce(m.name, r.model_id)
