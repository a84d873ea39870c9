-- name: ExecutionInsert :one
-- Records a new execution with its first history row, in one statement. Idempotent per
-- enforcement for first attempts (no row returned on a duplicate). A workflow's child is
-- idempotent per (parent, task, route, item, retry, attempt).
WITH x AS (
    INSERT INTO attune.execution (action_ref, action_id, runtime, enforcement_id, attempt, original_id,
        status, parameters, secrets, timeout_seconds, scheduled_at, rerun_of,
        parent_id, task, task_route, task_item, task_retry)
    VALUES (@action_ref, @action_id, @runtime, @enforcement_id, @attempt, @original_id,
        @status, @parameters, @secrets, @timeout_seconds, @scheduled_at, @rerun_of,
        @parent_id, @task, @task_route, @task_item, @task_retry)
    ON CONFLICT DO NOTHING
    RETURNING *
), h AS (
    INSERT INTO attune.execution_history (execution_id, from_status, to_status, worker, reason)
    SELECT x.id, NULL, x.status, '', '' FROM x
)
SELECT * FROM x;

-- name: ExecutionGet :one
SELECT * FROM attune.execution WHERE id = @id;

-- name: ExecutionStart :one
-- Compare-and-set scheduled -> running, with its history row, returning the execution, its
-- action and the action's pack (config, sealed config, requirements): everything the worker
-- needs, in one statement. No row
-- when the execution is not scheduled (another delivery got there first) or its action is gone.
WITH x AS (
    UPDATE attune.execution e
    SET status = 'running', worker = @worker, started_at = now(), updated_at = now()
    WHERE e.id = @id AND e.status = 'scheduled'
      AND EXISTS (SELECT 1 FROM attune.action a WHERE a.ref = e.action_ref)
    RETURNING e.*
), h AS (
    INSERT INTO attune.execution_history (execution_id, from_status, to_status, worker, reason)
    SELECT x.id, 'scheduled', 'running', @worker, '' FROM x
)
SELECT x.*, sqlc.embed(action), sqlc.embed(pack)
FROM x JOIN attune.action action ON action.ref = x.action_ref
JOIN attune.pack pack ON pack.id = action.pack_id;

-- name: ExecutionSetPending :one
-- Compare-and-set running -> pending: the execution now waits for an answer, held by no worker.
UPDATE attune.execution SET status = 'pending', updated_at = now()
WHERE id = @id AND status = 'running'
RETURNING *;

-- name: ExecutionFinish :one
-- Compare-and-set from the expected status to a terminal one, with its history row, in one
-- statement. No row when the execution is not in the expected status.
WITH x AS (
    UPDATE attune.execution e
    SET status = @status, result = @result, error = @error, finished_at = now(), updated_at = now()
    WHERE e.id = @id AND e.status = @expected_status
    RETURNING e.*
), h AS (
    INSERT INTO attune.execution_history (execution_id, from_status, to_status, worker, reason)
    SELECT x.id, @expected_status, x.status, @worker, x.error FROM x
)
SELECT * FROM x;

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

-- name: ExecutionAttemptsOf :many
-- Every attempt of the execution id is one of, first to last: ExecutionAttempts with the first
-- attempt read here rather than by the caller, so it can be pipelined with ExecutionGet.
SELECT a.* FROM attune.execution x
JOIN attune.execution a ON a.id = coalesce(x.original_id, x.id) OR a.original_id = coalesce(x.original_id, x.id)
WHERE x.id = @id
ORDER BY a.attempt;

-- name: ExecutionAbandonSilent :many
-- Running (or canceling) executions whose worker has not been seen since the cutoff. Unfinished
-- ones only (finished_at IS NULL): execution_unfinished_idx holds the few of them. Workflows
-- run on no worker: the conductor advances them in their children's transactions.
SELECT x.* FROM attune.execution x
LEFT JOIN attune.worker w ON w.name = x.worker
WHERE x.status IN ('running', 'canceling') AND x.finished_at IS NULL
  AND (w.name IS NULL OR w.last_seen_at < @cutoff)
  AND x.runtime <> 'orquesta'
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

-- name: ExecutionTerminalFollowUps :one
-- What follows an execution's terminal transition, in one statement: its concurrency slot is
-- given back (the slot's policy, key and state when it held or awaited one), whether an
-- enabled rule listens for executions' ends (@trigger_ref), and its action's retry policy.
WITH released AS (
    DELETE FROM attune.policy_slot WHERE execution_id = @execution_id
    RETURNING policy_ref, slot_key, state
)
SELECT EXISTS (SELECT 1 FROM attune.rule WHERE trigger_ref = @trigger_ref AND enabled) AS listened,
       (SELECT a.retry FROM attune.action a WHERE a.ref = @action_ref) AS retry,
       r.policy_ref, r.slot_key, r.state
FROM (SELECT 1) AS one LEFT JOIN released r ON true;

-- name: ExecutionInsertEnforced :one
-- Records a rule's enforcement of an event, its execution and the execution's first history
-- row, in one statement. No row when the rule already enforced the event (a redelivery).
WITH n AS (
    INSERT INTO attune.enforcement (rule_id, rule_ref, event_id, status, parameters, reason, resolved_at)
    VALUES (@rule_id, @rule_ref, @event_id, 'processed', @parameters, '', now())
    ON CONFLICT ON CONSTRAINT enforcement_rule_event_key DO NOTHING
    RETURNING id
), x AS (
    INSERT INTO attune.execution (action_ref, action_id, runtime, enforcement_id, attempt,
        status, parameters, secrets, timeout_seconds, scheduled_at)
    SELECT @action_ref, @action_id, @runtime, n.id, 1,
        @status, @parameters, @secrets, @timeout_seconds, @scheduled_at FROM n
    ON CONFLICT DO NOTHING
    RETURNING *
), h AS (
    INSERT INTO attune.execution_history (execution_id, from_status, to_status, worker, reason)
    SELECT x.id, NULL, x.status, '', '' FROM x
)
SELECT * FROM x;

-- name: ExecutionStartMany :many
-- ExecutionStart for several executions in one statement (a worker's batch of dispatch jobs):
-- each one still scheduled, whose action exists, moves to running with its history row, and is
-- returned with its action and pack. The others are left as they are and not returned.
WITH x AS (
    UPDATE attune.execution e
    SET status = 'running', worker = @worker, started_at = now(), updated_at = now()
    WHERE e.id = ANY(@ids::bigint[]) AND e.status = 'scheduled'
      AND EXISTS (SELECT 1 FROM attune.action a WHERE a.ref = e.action_ref)
    RETURNING e.*
), h AS (
    INSERT INTO attune.execution_history (execution_id, from_status, to_status, worker, reason)
    SELECT x.id, 'scheduled', 'running', @worker, '' FROM x
)
SELECT x.*, sqlc.embed(action), sqlc.embed(pack)
FROM x JOIN attune.action action ON action.ref = x.action_ref
JOIN attune.pack pack ON pack.id = action.pack_id;
