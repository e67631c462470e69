SELECT model_id, name, path, n_params, tokenizer_id, vocab_size, context_len, architecture, mixture,
       source, train_info, registered_at
FROM models
ORDER BY registered_at
