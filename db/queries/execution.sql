-- name: ExecutionInsert :one
-- Idempotent per enforcement for first attempts (no row returned on a duplicate).
INSERT INTO attune.execution (action_ref, action_id, runtime, enforcement_id, attempt, original_id,
    status, parameters, secrets, timeout_seconds, scheduled_at)
VALUES (@action_ref, @action_id, @runtime, @enforcement_id, @attempt, @original_id,
    @status, @parameters, @secrets, @timeout_seconds, @scheduled_at)
ON CONFLICT DO NOTHING
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

-- name: ExecutionAttempts :many
-- Every attempt of an execution, first to last, given any one of them.
SELECT * FROM attune.execution
WHERE id = @root_id OR original_id = @root_id
ORDER BY attempt;

-- name: ExecutionAbandonSilent :many
-- Running (or canceling) executions whose worker has not been seen since the cutoff. Unfinished
-- ones only (finished_at IS NULL): execution_unfinished_idx holds the few of them.
SELECT x.* FROM attune.execution x
LEFT JOIN attune.worker w ON w.name = x.worker
WHERE x.status IN ('running', 'canceling') AND x.finished_at IS NULL
  AND (w.name IS NULL OR w.last_seen_at < @cutoff)
ORDER BY x.id;

-- name: ExecutionPruneBatch :execrows
-- Deletes up to @batch finished executions created before @before (history cascades), oldest
-- first: a scan of execution_created_at_idx that ends at @before, so the last batch does not
-- read the newer rows.
DELETE FROM attune.execution d WHERE d.id IN (
    SELECT o.id FROM attune.execution o
    WHERE o.created_at < @before AND o.status IN ('completed', 'failed', 'timeout', 'cancelled', 'abandoned')
    ORDER BY o.created_at LIMIT @batch);

-- name: EventPruneBatch :execrows
-- Deletes up to @batch events created before @before that no unfinished execution needs
-- (enforcements cascade; executions keep their row with enforcement_id set to NULL).
DELETE FROM attune.event d WHERE d.id IN (
    SELECT ev.id FROM attune.event ev
    WHERE ev.created_at < @before AND NOT EXISTS (
        SELECT 1 FROM attune.enforcement n JOIN attune.execution x ON x.enforcement_id = n.id
        WHERE n.event_id = ev.id AND x.finished_at IS NULL
          AND x.status NOT IN ('completed', 'failed', 'timeout', 'cancelled', 'abandoned'))
    ORDER BY ev.id LIMIT @batch);

-- name: OldestPendingJobs :many
-- The oldest job waiting in each queue (available, or scheduled or retryable and due), for
-- attune status. A retryable job waiting for its next attempt is not due yet.
SELECT queue, min(scheduled_at)::timestamptz AS oldest, count(*)::bigint AS n
FROM river_job
WHERE state = 'available' OR (state IN ('scheduled', 'retryable') AND scheduled_at <= now())
GROUP BY queue ORDER BY queue;
