-- name: KeySet :one
INSERT INTO attune.kv (scope, name, value, secret, sealed, expires_at, updated_at)
VALUES (@scope, @name, @value, @secret, @sealed, @expires_at, @now)
ON CONFLICT (scope, name) DO UPDATE
SET value = EXCLUDED.value, secret = EXCLUDED.secret, sealed = EXCLUDED.sealed,
    expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at
RETURNING *;

-- name: KeyGet :one
-- A key past its expiry reads as missing, before the retention job deletes it.
SELECT * FROM attune.kv
WHERE scope = @scope AND name = @name AND (expires_at IS NULL OR expires_at > @now::timestamptz);

-- name: KeyList :many
SELECT * FROM attune.kv
WHERE (sqlc.narg('scope')::text IS NULL OR scope = sqlc.narg('scope'))
  AND starts_with(name, @prefix::text)
  AND (expires_at IS NULL OR expires_at > @now::timestamptz)
ORDER BY scope, name;

-- name: KeyDelete :execrows
DELETE FROM attune.kv WHERE scope = @scope AND name = @name;

-- name: KeyPruneExpired :execrows
DELETE FROM attune.kv
WHERE (scope, name) IN (
    SELECT k.scope, k.name FROM attune.kv k WHERE k.expires_at <= @now::timestamptz LIMIT @batch::int
);
