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

-- name: EventInsertForExecution :one
-- The event of an execution's end (core.actiontrigger), one per execution: no row when it is
-- recorded already. Its depth is one more than that of the event that caused the execution (an
-- execution run by hand counts as caused at depth 0); past @max_depth it is recorded with @too_deep as its
-- processing error, and not processed.
INSERT INTO attune.event (trigger_ref, payload, execution_id, depth, processing_error)
SELECT @trigger_ref, @payload, @execution_id, d.depth,
       CASE WHEN d.depth > @max_depth::integer THEN @too_deep::text ELSE '' END
FROM (SELECT coalesce((
    SELECT ev.depth FROM attune.execution x
    JOIN attune.enforcement n ON n.id = x.enforcement_id
    JOIN attune.event ev ON ev.id = n.event_id
    WHERE x.id = @execution_id), 0) + 1 AS depth) d
ON CONFLICT (execution_id) WHERE execution_id IS NOT NULL DO NOTHING
RETURNING *;
