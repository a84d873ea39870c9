-- +goose Up
-- (Retries share their enforcement; execution_enforcement_key only covers attempt 1.)
-- Retry policies: an action may declare {count, delay, backoff, on}; each retry is a new
-- execution (attempt n+1) pointing at the first attempt.
ALTER TABLE attune.action ADD COLUMN retry jsonb;
ALTER TABLE attune.execution ADD COLUMN original_id bigint REFERENCES attune.execution (id) ON DELETE CASCADE;
-- One row per attempt of an original execution: a redelivered completion creates no second retry.
CREATE UNIQUE INDEX execution_attempt_key ON attune.execution (original_id, attempt) WHERE original_id IS NOT NULL;
CREATE INDEX execution_original_idx ON attune.execution (original_id) WHERE original_id IS NOT NULL;
CREATE INDEX execution_running_worker_idx ON attune.execution (worker) WHERE status = 'running';

-- +goose Down
DROP INDEX attune.execution_running_worker_idx;
DROP INDEX attune.execution_original_idx;
DROP INDEX attune.execution_attempt_key;
ALTER TABLE attune.execution DROP COLUMN original_id;
ALTER TABLE attune.action DROP COLUMN retry;
