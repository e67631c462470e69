INSERT OR REPLACE INTO models (model_id, name, path, revision, n_params, tokenizer_id, vocab_size,
                               context_len, architecture, mixture, train_info, source)
VALUES ($model_id, $name, $path, $revision, $n_params, $tokenizer_id, $vocab_size,
        $context_len, $architecture, $mixture, $train_info, $source)
