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
