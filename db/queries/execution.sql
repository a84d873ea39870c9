-- name: ExecutionInsert :one
-- Idempotent per enforcement for first attempts (no row returned on a duplicate).
INSERT INTO attune.execution (action_ref, action_id, runtime, enforcement_id, attempt, status,
    parameters, timeout_seconds, scheduled_at)
VALUES (@action_ref, @action_id, @runtime, @enforcement_id, @attempt, @status,
    @parameters, @timeout_seconds, @scheduled_at)
ON CONFLICT (enforcement_id) WHERE attempt = 1 DO NOTHING
RETURNING *;

-- name: ExecutionGet :one
SELECT * FROM attune.execution WHERE id = @id;

-- name: ExecutionStart :one
-- Compare-and-set scheduled -> running; no row when another delivery got there first.
UPDATE attune.execution
SET status = 'running', worker = @worker, started_at = now(), updated_at = now()
WHERE id = @id AND status = 'scheduled'
RETURNING *;

-- name: ExecutionFinish :one
-- Compare-and-set from the expected status to a terminal one.
UPDATE attune.execution
SET status = @status, result = @result, error = @error, finished_at = now(), updated_at = now()
WHERE id = @id AND status = @expected_status
RETURNING *;

-- name: ExecutionList :many
SELECT * FROM attune.execution
WHERE (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(action_ref)::text IS NULL OR action_ref = sqlc.narg(action_ref))
ORDER BY id DESC LIMIT @lim;

-- name: ExecutionCountByStatus :many
SELECT status, count(*)::bigint AS n FROM attune.execution GROUP BY status ORDER BY status;

-- name: ExecutionListByEvent :many
SELECT x.* FROM attune.execution x
JOIN attune.enforcement e ON e.id = x.enforcement_id
WHERE e.event_id = @event_id ORDER BY x.id;

-- name: HistoryInsert :exec
INSERT INTO attune.execution_history (execution_id, from_status, to_status, worker, reason)
VALUES (@execution_id, @from_status, @to_status, @worker, @reason);

-- name: HistoryList :many
SELECT * FROM attune.execution_history WHERE execution_id = @execution_id ORDER BY id;
