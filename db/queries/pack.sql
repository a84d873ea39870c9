-- name: PackUpsert :one
INSERT INTO attune.pack (ref, label, description, version, config, sealed_config, requirements)
VALUES (@ref, @label, @description, @version, @config, @sealed_config, @requirements)
ON CONFLICT (ref) DO UPDATE
SET label = EXCLUDED.label, description = EXCLUDED.description, version = EXCLUDED.version,
    config = EXCLUDED.config, sealed_config = EXCLUDED.sealed_config,
    requirements = EXCLUDED.requirements, updated_at = now()
RETURNING *;

-- name: PackGetByRef :one
SELECT * FROM attune.pack WHERE ref = @ref;

-- name: PackListWithCounts :many
-- Every registered pack with how many actions, triggers and rules it has, for attune pack list.
SELECT p.ref, p.label, p.description, p.version, p.created_at, p.updated_at,
       (SELECT count(*) FROM attune.action a WHERE a.pack_id = p.id)::bigint AS actions,
       (SELECT count(*) FROM attune.trigger t WHERE t.pack_id = p.id)::bigint AS triggers,
       (SELECT count(*) FROM attune.rule r WHERE r.pack_id = p.id)::bigint AS rules
FROM attune.pack p ORDER BY p.ref;
