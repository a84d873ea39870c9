-- name: TriggerUpsert :one
INSERT INTO attune.trigger (ref, pack_id, pack_ref, label, description, param_schema, payload_schema)
VALUES (@ref, @pack_id, @pack_ref, @label, @description, @param_schema, @payload_schema)
ON CONFLICT (ref) DO UPDATE
SET pack_id = EXCLUDED.pack_id, pack_ref = EXCLUDED.pack_ref, label = EXCLUDED.label,
    description = EXCLUDED.description, param_schema = EXCLUDED.param_schema,
    payload_schema = EXCLUDED.payload_schema, updated_at = now()
RETURNING *;

-- name: TriggerDeleteMissing :exec
DELETE FROM attune.trigger WHERE pack_id = @pack_id AND NOT (ref = ANY(@keep::text[]));

-- name: TriggerExists :one
SELECT EXISTS (SELECT 1 FROM attune.trigger WHERE ref = @ref);

-- name: TriggerList :many
SELECT * FROM attune.trigger ORDER BY ref;
