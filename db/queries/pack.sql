-- name: PackUpsert :one
INSERT INTO attune.pack (ref, label, description, version, config)
VALUES (@ref, @label, @description, @version, @config)
ON CONFLICT (ref) DO UPDATE
SET label = EXCLUDED.label, description = EXCLUDED.description, version = EXCLUDED.version,
    config = EXCLUDED.config, updated_at = now()
RETURNING *;

-- name: PackGetByRef :one
SELECT * FROM attune.pack WHERE ref = @ref;

-- name: PackList :many
SELECT * FROM attune.pack ORDER BY ref;
