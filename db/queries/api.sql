-- name: APIKeyInsert :one
INSERT INTO attune.api_key (name, hash) VALUES (@name, @hash) RETURNING *;

-- name: APIKeyByHash :one
-- The live key with this hash; no row for an unknown or revoked key.
SELECT * FROM attune.api_key WHERE hash = @hash AND revoked_at IS NULL;

-- name: APIKeyTouch :exec
-- Records a use, at most once a minute per key, so busy clients do not write on every request.
UPDATE attune.api_key SET last_used_at = now()
WHERE id = @id AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');

-- name: APIKeyList :many
SELECT * FROM attune.api_key WHERE revoked_at IS NULL ORDER BY name;

-- name: APIKeyRevoke :execrows
UPDATE attune.api_key SET revoked_at = now() WHERE name = @name AND revoked_at IS NULL;

-- name: WebhookUpsert :one
INSERT INTO attune.webhook (name, verify, secret, header, encoding)
VALUES (@name, @verify, @secret, @header, @encoding)
ON CONFLICT (name) DO UPDATE
SET verify = EXCLUDED.verify, secret = EXCLUDED.secret, header = EXCLUDED.header,
    encoding = EXCLUDED.encoding, updated_at = now()
RETURNING *;

-- name: WebhookGet :one
SELECT * FROM attune.webhook WHERE name = @name;

-- name: WebhookList :many
SELECT * FROM attune.webhook ORDER BY name;

-- name: WebhookRuleNames :many
-- The webhook names that rules listen on (trigger_params.url of core.webhook rules).
SELECT DISTINCT (trigger_params ->> 'url')::text AS name FROM attune.rule
WHERE trigger_ref = 'core.webhook' AND trigger_params ? 'url' ORDER BY 1;

-- name: WebhookHasRule :one
SELECT EXISTS (SELECT 1 FROM attune.rule
    WHERE trigger_ref = 'core.webhook' AND trigger_params ->> 'url' = @name::text) AS found;

-- name: WebhookDeliveryInsert :execrows
INSERT INTO attune.webhook_delivery (webhook, delivery_id, event_id)
VALUES (@webhook, @delivery_id, @event_id) ON CONFLICT DO NOTHING;

-- name: WebhookDeliveryEvent :one
SELECT event_id FROM attune.webhook_delivery WHERE webhook = @webhook AND delivery_id = @delivery_id;

-- name: ExecutionPage :many
-- Executions newest first, after a keyset cursor (ids below @after; 0 for the first page).
SELECT x.* FROM attune.execution x
WHERE (sqlc.narg(status)::text IS NULL OR x.status = sqlc.narg(status))
  AND (sqlc.narg(action_ref)::text IS NULL OR x.action_ref = sqlc.narg(action_ref))
  AND (sqlc.narg(rule_ref)::text IS NULL OR x.enforcement_id IN (
        SELECT n.id FROM attune.enforcement n WHERE n.rule_ref = sqlc.narg(rule_ref)))
  AND (@after::bigint = 0 OR x.id < @after::bigint)
ORDER BY x.id DESC LIMIT @lim;

-- name: EventPage :many
SELECT * FROM attune.event
WHERE (sqlc.narg(trigger_ref)::text IS NULL OR trigger_ref = sqlc.narg(trigger_ref))
  AND (@after::bigint = 0 OR id < @after::bigint)
ORDER BY id DESC LIMIT @lim;

-- name: MetricsExecutionsByStatus :many
SELECT status, count(*)::bigint AS n FROM attune.execution GROUP BY status;

-- name: MetricsQueueJobs :many
-- Jobs by queue and state, with the age of the oldest (by scheduled time) in each.
SELECT queue, state::text AS state, count(*)::bigint AS n,
       extract(epoch FROM now() - min(scheduled_at))::float8 AS oldest_s
FROM river_job GROUP BY queue, state;

-- name: APIKeyLock :exec
-- Serialises the creation of the local key by replicas starting together.
SELECT pg_advisory_xact_lock(hashtext('attune.api_key.local'));

-- name: MetricsExecutionsFinished :many
-- Executions that finished in (@after, @upto], for the execution counters and histograms.
SELECT action_ref, status, scheduled_at, started_at, finished_at::timestamptz AS finished_at
FROM attune.execution
WHERE finished_at > @after AND finished_at <= @upto
ORDER BY finished_at LIMIT 100000;

-- name: MetricsEventsCreated :many
-- Events recorded in (@after, @upto] by trigger and source, with timer lateness.
SELECT trigger_ref,
       (CASE WHEN timer_id IS NOT NULL THEN 'timer' WHEN trigger_ref = 'core.webhook' THEN 'webhook' ELSE 'emit' END)::text AS source,
       coalesce((payload ->> 'lateness_ms')::float8, 0)::float8 AS lateness_ms
FROM attune.event
WHERE created_at > @after AND created_at <= @upto
ORDER BY created_at LIMIT 100000;

-- name: MetricsNow :one
SELECT now()::timestamptz AS now;
