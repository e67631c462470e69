-- Schema version 12: whether a compressor tunes its decoder is stored with its row (read off the trained
-- model: LoRA adapters on the decoder), so the report's SQL never lists method names. Rows written before
-- this version get the rule the SQL used to apply (COMI and meanpool always, the autoencoder with
-- decoder_lora); every row written since carries the model's own answer.
ALTER TABLE compressors ADD COLUMN IF NOT EXISTS decoder_tuned BOOLEAN;
UPDATE compressors
SET decoder_tuned = method IN ('comi', 'meanpool')
                    OR coalesce(CAST(json_extract(config, '$.decoder_lora') AS BOOLEAN), false)
WHERE decoder_tuned IS NULL;
