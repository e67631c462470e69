-- Provenance: every trained compressor with its models, slice and training summary.
SELECT c.compressor_id, c.method, c.ratio, c.encoder_id, c.decoder_id, c.train_slice, c.config,
       c.train_info, c.run_id, coalesce(me.name, c.encoder_id) AS encoder_name,
       coalesce(md.name, c.decoder_id) AS decoder_name
FROM compressors c
LEFT JOIN models me ON me.model_id = c.encoder_id
LEFT JOIN models md ON md.model_id = c.decoder_id
ORDER BY c.method, c.ratio, c.compressor_id
