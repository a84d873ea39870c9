-- name: TimerUpsert :one
INSERT INTO attune.timer (rule_id, trigger_ref, params, enabled, next_fire_at)
VALUES (@rule_id, @trigger_ref, @params, @enabled, @next_fire_at)
ON CONFLICT (rule_id) DO UPDATE
SET trigger_ref = EXCLUDED.trigger_ref, params = EXCLUDED.params, enabled = EXCLUDED.enabled,
    next_fire_at = EXCLUDED.next_fire_at, updated_at = now()
RETURNING *;

-- name: TimerGetByRule :one
SELECT * FROM attune.timer WHERE rule_id = @rule_id;

-- name: TimerGetForUpdate :one
SELECT * FROM attune.timer WHERE id = @id FOR UPDATE;

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
-- Enabled timers due by @due with their rule's ref, oldest fire first, up to @lim, locked until
-- the transaction ends. A timer another transaction holds is skipped: a fire in flight (which
-- fires it) or a rule change (which reschedules it).
SELECT sqlc.embed(t), r.ref AS rule_ref FROM attune.timer t
JOIN attune.rule r ON r.id = t.rule_id
WHERE t.enabled AND t.next_fire_at <= @due
ORDER BY t.next_fire_at, t.id
LIMIT @lim
FOR UPDATE OF t SKIP LOCKED;

-- name: TimerAdvanceMany :execrows
-- Compare-and-set of many fires at once, each {id, expected, next (null: never again),
-- fire_job_id (null: none), fired_at}: only a timer still at its expected fire time advances.
UPDATE attune.timer t
SET next_fire_at = (f ->> 'next')::timestamptz, fire_job_id = (f ->> 'fire_job_id')::bigint,
    fire_count = t.fire_count + 1, last_fired_at = (f ->> 'fired_at')::timestamptz, updated_at = now()
FROM jsonb_array_elements(@fires::jsonb) f
WHERE t.id = (f ->> 'id')::bigint AND t.enabled AND t.next_fire_at = (f ->> 'expected')::timestamptz;

-- name: TimerFireJobShared :one
-- Whether another enabled timer than @id waits for fire job @fire_job_id (timers due at the
-- same time share it).
SELECT EXISTS (SELECT 1 FROM attune.timer
    WHERE fire_job_id = @fire_job_id AND id <> @id AND enabled) AS shared;
