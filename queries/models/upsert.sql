-- Register a model; re-registering replaces its row and makes it the newest under its name (models/find.sql
-- resolves a name to the newest registration, so the timestamp must move too).
INSERT OR REPLACE INTO models (model_id, name, path, revision, n_params, tokenizer_id, vocab_size,
                               context_len, architecture, mixture, train_info, source, registered_at)
VALUES ($model_id, $name, $path, $revision, $n_params, $tokenizer_id, $vocab_size,
        $context_len, $architecture, $mixture, $train_info, $source, current_timestamp)
