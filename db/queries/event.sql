-- name: EventInsert :one
INSERT INTO attune.event (trigger_ref, payload, rule_id, rule_ref, timer_id, scheduled_at)
VALUES (@trigger_ref, @payload, @rule_id, @rule_ref, @timer_id, @scheduled_at)
RETURNING *;

-- name: EventGet :one
SELECT * FROM attune.event WHERE id = @id;

-- name: EventList :many
SELECT * FROM attune.event
WHERE (sqlc.narg(trigger_ref)::text IS NULL OR trigger_ref = sqlc.narg(trigger_ref))
ORDER BY id DESC LIMIT @lim;

-- name: EventSetProcessingError :exec
UPDATE attune.event SET processing_error = @processing_error WHERE id = @id;

-- name: EventInsertMany :many
-- Many events at once, each {trigger_ref, payload, rule_id, rule_ref, timer_id, scheduled_at},
-- in the order given.
INSERT INTO attune.event (trigger_ref, payload, rule_id, rule_ref, timer_id, scheduled_at)
SELECT e.v ->> 'trigger_ref', e.v -> 'payload', (e.v ->> 'rule_id')::bigint, e.v ->> 'rule_ref',
       (e.v ->> 'timer_id')::bigint, (e.v ->> 'scheduled_at')::timestamptz
FROM jsonb_array_elements(@events::jsonb) WITH ORDINALITY e(v, n)
ORDER BY e.n
RETURNING id;
