-- name: ActionUpsert :one
INSERT INTO attune.action (ref, pack_id, pack_ref, label, description, runtime, entry_point,
    entry_content, param_schema, parameter_format, parameter_delivery, output_format,
    timeout_seconds, retry, env, files)
VALUES (@ref, @pack_id, @pack_ref, @label, @description, @runtime, @entry_point,
    @entry_content, @param_schema, @parameter_format, @parameter_delivery, @output_format,
    @timeout_seconds, @retry, @env, @files)
ON CONFLICT (ref) DO UPDATE
SET pack_id = EXCLUDED.pack_id, pack_ref = EXCLUDED.pack_ref, label = EXCLUDED.label,
    description = EXCLUDED.description, runtime = EXCLUDED.runtime,
    entry_point = EXCLUDED.entry_point, entry_content = EXCLUDED.entry_content,
    param_schema = EXCLUDED.param_schema, parameter_format = EXCLUDED.parameter_format,
    parameter_delivery = EXCLUDED.parameter_delivery,
    output_format = EXCLUDED.output_format, timeout_seconds = EXCLUDED.timeout_seconds,
    retry = EXCLUDED.retry, env = EXCLUDED.env, files = EXCLUDED.files, updated_at = now()
RETURNING id;

-- name: ActionDeleteMissing :exec
DELETE FROM attune.action WHERE pack_id = @pack_id AND NOT (ref = ANY(@keep::text[]));

-- name: ActionGetByRef :one
SELECT * FROM attune.action WHERE ref = @ref;

-- name: ActionGetByID :one
SELECT * FROM attune.action WHERE id = @id;

-- name: ActionList :many
SELECT id, ref, pack_ref, label, description, runtime, entry_point, timeout_seconds
FROM attune.action ORDER BY ref;

-- name: ActionForRule :one
-- The action a rule runs, with the config of the rule's pack (its templates' pack.config):
-- what an enforcement reads, in one statement.
SELECT sqlc.embed(action), (SELECT p.config FROM attune.pack p WHERE p.ref = @pack_ref)::jsonb AS pack_config
FROM attune.action action WHERE action.ref = @action_ref;
