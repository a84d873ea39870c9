-- name: TimerUpsert :one
INSERT INTO attune.timer (rule_id, trigger_ref, params, enabled, next_fire_at)
VALUES (@rule_id, @trigger_ref, @params, @enabled, @next_fire_at)
ON CONFLICT (rule_id) DO UPDATE
SET trigger_ref = EXCLUDED.trigger_ref, params = EXCLUDED.params, enabled = EXCLUDED.enabled,
    next_fire_at = EXCLUDED.next_fire_at, updated_at = now()
RETURNING *;

-- name: TimerGetByRule :one
SELECT * FROM attune.timer WHERE rule_id = @rule_id;

-- name: TimerSetFireJob :exec
UPDATE attune.timer SET fire_job_id = @fire_job_id, updated_at = now() WHERE id = @id;

-- name: TimerDisable :one
UPDATE attune.timer SET enabled = false, next_fire_at = NULL, updated_at = now()
WHERE rule_id = @rule_id
RETURNING *;

-- name: TimerListNeedingJob :many
-- Enabled timers whose pending fire job is missing or already finalized: the reconciler re-inserts them.
SELECT t.* FROM attune.timer t
LEFT JOIN river_job j ON j.id = t.fire_job_id
WHERE t.enabled AND t.next_fire_at IS NOT NULL
  AND (j.id IS NULL OR j.state IN ('completed', 'cancelled', 'discarded'))
ORDER BY t.id;

-- name: TimerLockDue :many
-- The enabled timers due at @now, locked for one fire round; timers another transaction holds
-- (a round of another replica, a rule being disabled) are skipped: their holder handles them.
SELECT sqlc.embed(t), r.ref AS rule_ref
FROM attune.timer t JOIN attune.rule r ON r.id = t.rule_id
WHERE t.enabled AND t.next_fire_at <= @now
ORDER BY t.id
LIMIT @lim
FOR UPDATE OF t SKIP LOCKED;

-- name: TimerAdvanceMany :many
-- TimerAdvance for many timers at once: each moves from its expected fire time to its next one
-- (NULL where @has_next is false: never again).
UPDATE attune.timer t
SET next_fire_at = CASE WHEN u.has_next THEN u.next_fire_at END, fire_count = t.fire_count + 1,
    last_fired_at = @fired_at, updated_at = @fired_at
FROM (SELECT unnest(@ids::bigint[]) AS id, unnest(@expected_fire_ats::timestamptz[]) AS expected_fire_at,
             unnest(@next_fire_ats::timestamptz[]) AS next_fire_at, unnest(@has_next::boolean[]) AS has_next) u
WHERE t.id = u.id AND t.enabled AND t.next_fire_at = u.expected_fire_at
RETURNING t.*;

-- name: TimerEventInsertMany :many
-- The events of one fire round, one per timer fired.
INSERT INTO attune.event (trigger_ref, payload, rule_id, rule_ref, timer_id, scheduled_at)
SELECT unnest(@trigger_refs::text[]), unnest(@payloads::text[])::jsonb, unnest(@rule_ids::bigint[]),
       unnest(@rule_refs::text[]), unnest(@timer_ids::bigint[]), unnest(@scheduled_ats::timestamptz[])
RETURNING id, timer_id;

-- name: TimerSetFireJobMany :exec
UPDATE attune.timer t SET fire_job_id = u.fire_job_id, updated_at = @now
FROM (SELECT unnest(@ids::bigint[]) AS id, unnest(@fire_job_ids::bigint[]) AS fire_job_id) u
WHERE t.id = u.id;
