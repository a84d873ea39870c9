-- +goose Up
-- The indexes of attune.execution (issue 10): each one serves a statement that a user or the
-- engine runs, and none covers a column that a status change writes (status, worker,
-- scheduled_at, started_at, updated_at, result, error). So claiming an execution
-- (scheduled -> running), admitting a waiter (requested -> scheduled) and asking for a cancel
-- (running -> canceling) are HOT updates: a new row version on the same page and no index
-- entry. Only the terminal update, which sets finished_at, leaves the partial index below and
-- writes index entries. The fillfactor leaves room on each page for those row versions.
--
-- What stays, and what it serves:
--   execution_pkey (id): every read and compare-and-set by id (claim, finish, cancel, get,
--     `attune execution get|tail|cancel`, GET /api/v1/executions/{id}); the newest-first
--     listings (`attune execution list`, GET /api/v1/executions, also with --status, as a
--     backward scan that stops at the page size).
--   execution_action_idx (action_ref, id): `attune execution list --action`, GET
--     /api/v1/executions?action=.
--   execution_created_at_idx (created_at): retention (ExecutionPruneBatch).
--   execution_attempt_key (original_id, attempt) WHERE original_id IS NOT NULL: one row per
--     retry attempt; ExecutionAttempts; the ON DELETE CASCADE of original_id when prune deletes
--     a first attempt.
--
-- Dropped:
--   execution_status_idx (status, id): every status change rewrote it, so no status update was
--     HOT. The reaper and prune's "no unfinished execution" check use execution_unfinished_idx;
--     listings by status scan newest first by id; status counts (`attune status`, /metrics)
--     read the table, as they read the whole index before.
--   execution_running_worker_idx (worker) WHERE status = 'running': no statement used it (the
--     reaper asks for running and canceling), and worker and status are written by the claim.
--   execution_original_idx (original_id) WHERE original_id IS NOT NULL: execution_attempt_key
--     has the same leading column and predicate.
--   execution_enforcement_key (enforcement_id) WHERE attempt = 1: replaced by
--     execution_enforcement_attempt_key below.
--
-- Added:
--   execution_unfinished_idx (id) WHERE finished_at IS NULL: the executions not yet terminal, a
--     few among many: the reaper (ExecutionAbandonSilent, every few seconds on each rules
--     replica) and EventPruneBatch's check. finished_at is written once, by the terminal update.
--   execution_enforcement_attempt_key UNIQUE (enforcement_id, attempt): a redelivered
--     enforcement inserts no second execution (ExecutionInsert ON CONFLICT on attempt 1, as the
--     partial key did; a retry is attempt n+1 of the same enforcement, which
--     execution_attempt_key already keeps unique); `attune event get` (ExecutionListByEvent);
--     and the ON DELETE SET NULL of enforcement_id when prune deletes old events: the foreign
--     key's own lookup (enforcement_id = $1) could not use the partial key, so it was a
--     sequential scan of the table per deleted enforcement.
--   execution_rerun_of_idx (rerun_of) WHERE rerun_of IS NOT NULL: the ON DELETE SET NULL of
--     rerun_of when prune deletes the execution a re-run points at (a sequential scan per
--     deleted execution before).
DROP INDEX attune.execution_status_idx;
DROP INDEX attune.execution_running_worker_idx;
DROP INDEX attune.execution_original_idx;
CREATE UNIQUE INDEX execution_enforcement_attempt_key ON attune.execution (enforcement_id, attempt);
DROP INDEX attune.execution_enforcement_key;
CREATE INDEX execution_unfinished_idx ON attune.execution (id) WHERE finished_at IS NULL;
CREATE INDEX execution_rerun_of_idx ON attune.execution (rerun_of) WHERE rerun_of IS NOT NULL;
ALTER TABLE attune.execution SET (fillfactor = 75);

-- +goose Down
ALTER TABLE attune.execution RESET (fillfactor);
DROP INDEX attune.execution_rerun_of_idx;
DROP INDEX attune.execution_unfinished_idx;
CREATE UNIQUE INDEX execution_enforcement_key ON attune.execution (enforcement_id) WHERE attempt = 1;
DROP INDEX attune.execution_enforcement_attempt_key;
CREATE INDEX execution_original_idx ON attune.execution (original_id) WHERE original_id IS NOT NULL;
CREATE INDEX execution_running_worker_idx ON attune.execution (worker) WHERE status = 'running';
CREATE INDEX execution_status_idx ON attune.execution (status, id);
