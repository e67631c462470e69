-- A model by id, by name (newest first), or by path.
SELECT * FROM models
WHERE model_id = $ref OR name = $ref OR path = $ref
ORDER BY (model_id = $ref) DESC, registered_at DESC
LIMIT 1
