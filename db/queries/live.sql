-- Cancel, re-run and live output (migration 00010).

-- name: ExecutionSetCanceling :one
-- Compare-and-set running -> canceling, with its history row, in one statement; error says who
-- asked. No row when it is not running.
WITH x AS (
    UPDATE attune.execution e
    SET status = 'canceling', error = @error, updated_at = now()
    WHERE e.id = @id AND e.status = 'running'
    RETURNING e.*
), h AS (
    INSERT INTO attune.execution_history (execution_id, from_status, to_status, worker, reason)
    SELECT x.id, 'running', 'canceling', '', x.error FROM x
)
SELECT * FROM x;

-- name: ExecutionsCanceling :many
-- Which of these executions someone asked to cancel, and who (in error).
SELECT id, error FROM attune.execution
WHERE id = ANY(@ids::bigint[]) AND status = 'canceling';

-- name: ExecutionSetRerunOf :exec
UPDATE attune.execution SET rerun_of = @rerun_of WHERE id = @id;

-- name: DispatchJobsPending :many
-- The dispatch jobs of an execution that River has not finished, to cancel with it.
SELECT id FROM river_job
WHERE kind = 'attune.execution.dispatch'
  AND args @> jsonb_build_object('execution_id', @execution_id::bigint)
  AND state NOT IN ('completed', 'cancelled', 'discarded');

-- name: OutputInsert :exec
-- One batch of an action's output; a duplicate seq (never expected) is ignored.
INSERT INTO attune.execution_output (execution_id, seq, stream, data)
VALUES (@execution_id, @seq, @stream, @data)
ON CONFLICT DO NOTHING;

-- name: OutputSince :many
-- An execution's output batches after seq @after, in order.
SELECT * FROM attune.execution_output
WHERE execution_id = @execution_id AND seq > @after
ORDER BY seq LIMIT @lim;
