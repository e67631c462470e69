-- Provenance: every registered model with its size, mixture and training summary.
SELECT model_id, name, path, n_params, tokenizer_id, vocab_size, context_len, architecture, mixture,
       train_info, source
FROM models
ORDER BY name, model_id
