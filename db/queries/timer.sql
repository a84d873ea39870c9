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

-- name: TimerAdvance :one
-- Compare-and-set: only the fire for the timer's current next_fire_at may advance it.
UPDATE attune.timer
SET next_fire_at = @next_fire_at, fire_count = fire_count + 1, last_fired_at = @fired_at,
    updated_at = now()
WHERE id = @id AND enabled AND next_fire_at = @expected_fire_at
RETURNING *;

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
