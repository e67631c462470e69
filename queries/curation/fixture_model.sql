-- Tests only: a model row without a model folder.
INSERT INTO models (model_id, name, path) VALUES ($model_id, $name, $path)
