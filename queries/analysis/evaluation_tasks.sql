-- Tasks with evaluations: compressor rows, baseline rows and distinct documents.
SELECT task,
       count(*) FILTER (WHERE system = compressor_id) AS n_compressor_rows,
       count(*) FILTER (WHERE system IS DISTINCT FROM compressor_id) AS n_baseline_rows,
       count(DISTINCT doc_id) AS n_docs,
       count(DISTINCT compressor_id) AS n_compressors
FROM evaluations
GROUP BY task
ORDER BY n_compressor_rows DESC, task
