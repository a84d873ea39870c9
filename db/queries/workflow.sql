-- Workflows (migration 00013): the conductor's state, locked per workflow.

-- name: ExecutionSetStatus :one
-- Compare-and-set between non-terminal statuses (a workflow: scheduled -> running, running <->
-- paused, running|paused -> canceling). No row when it is not in the expected status.
UPDATE attune.execution
SET status = @status, error = CASE WHEN @status::text = 'canceling' THEN @error ELSE error END,
    started_at = CASE WHEN @status::text = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
    updated_at = now()
WHERE id = @id AND status = @expected_status
RETURNING *;

-- name: WorkflowInsert :exec
INSERT INTO attune.workflow (execution_id, context, max_task_runs, definition, file)
VALUES (@execution_id, @context, @max_task_runs, @definition, @file)
ON CONFLICT DO NOTHING;

-- name: WorkflowLock :one
-- The workflow's row, locked until the transaction ends: advances of one workflow take turns.
SELECT * FROM attune.workflow WHERE execution_id = @execution_id FOR UPDATE;

-- name: WorkflowGet :one
SELECT * FROM attune.workflow WHERE execution_id = @execution_id;

-- name: WorkflowUpdate :exec
UPDATE attune.workflow
SET state = @state, failed = @failed, paused_by = @paused_by, context = @context, errors = @errors,
    task_runs = @task_runs, updated_at = now()
WHERE execution_id = @execution_id;

-- name: WorkflowTaskInsert :one
INSERT INTO attune.workflow_task (workflow_id, task, route, state, context, arrivals, retry_delay)
VALUES (@workflow_id, @task, @route, @state, @context, @arrivals, @retry_delay)
RETURNING *;

-- name: WorkflowTaskUpdate :exec
UPDATE attune.workflow_task
SET state = @state, context = @context, arrivals = @arrivals, retry = @retry, retry_delay = @retry_delay,
    items = @items, concurrency = @concurrency, next_item = @next_item, result = @result, error = @error,
    started_at = @started_at, finished_at = @finished_at
WHERE id = @id;

-- name: WorkflowTaskSetNextItem :exec
-- with-items progress alone: the items and context (often large, TOASTed) are left as they are.
UPDATE attune.workflow_task SET next_item = @next_item WHERE id = @id;

-- name: WorkflowTasks :many
-- Every task instance of a workflow, in the order they were reached.
SELECT * FROM attune.workflow_task WHERE workflow_id = @workflow_id ORDER BY id;

-- name: WorkflowTasksLive :many
-- The task instances the conductor needs: those not finished, and the latest of each task.
SELECT * FROM attune.workflow_task t
WHERE t.workflow_id = @workflow_id AND (t.state IN ('waiting', 'ready', 'running')
    OR t.route = (SELECT max(l.route) FROM attune.workflow_task l WHERE l.workflow_id = t.workflow_id AND l.task = t.task))
ORDER BY t.id;

-- name: WorkflowChildren :many
-- The child executions of a workflow, oldest first.
SELECT * FROM attune.execution WHERE parent_id = @parent_id ORDER BY id;

-- name: WorkflowRunChildren :many
-- The latest attempt of each item of one run (instance and retry) of a task, by item.
SELECT DISTINCT ON (coalesce(task_item, -1)) * FROM attune.execution
WHERE parent_id = @parent_id AND task = @task AND task_route = @task_route AND task_retry = @task_retry
ORDER BY coalesce(task_item, -1), attempt DESC;

-- name: WorkflowRunCounts :one
-- How many items of one run of a task are not finished, and how many ended otherwise than completed
-- (latest attempt of each item).
SELECT count(*) FILTER (WHERE status NOT IN ('completed', 'failed', 'timeout', 'cancelled', 'abandoned'))::int AS open,
       count(*) FILTER (WHERE status IN ('failed', 'timeout', 'cancelled', 'abandoned'))::int AS bad
FROM (SELECT DISTINCT ON (coalesce(task_item, -1)) status FROM attune.execution
      WHERE parent_id = @parent_id AND task = @task AND task_route = @task_route AND task_retry = @task_retry
      ORDER BY coalesce(task_item, -1), attempt DESC) last;

-- name: WorkflowOpenChildren :many
-- The children of a workflow that have not finished, to cancel with it.
SELECT * FROM attune.execution
WHERE parent_id = @parent_id AND status NOT IN ('completed', 'failed', 'timeout', 'cancelled', 'abandoned')
ORDER BY id;

-- name: WorkflowPendingChildren :one
-- Children waiting for a human (core.ask), which keep the workflow paused.
SELECT count(*)::int FROM attune.execution WHERE parent_id = @parent_id AND status = 'pending';
