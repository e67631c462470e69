-- One trained compressor by id.
SELECT * FROM compressors WHERE compressor_id = $compressor_id
