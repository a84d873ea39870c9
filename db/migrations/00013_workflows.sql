-- +goose Up
-- Workflows (issue 11): an Orquesta workflow is an execution of an action of runtime orquesta;
-- each of its tasks' actions is a child execution. The conductor (jobs/workflow.go) advances a
-- workflow in the transaction that records a child's terminal status, under the lock of the
-- workflow's row. docs/sql.md shows how to see where a workflow stands.

-- The workflow runtime: run by the conductor in the scheduling transaction, never by a worker.
INSERT INTO attune.runtime (name, description, in_process) VALUES
    ('orquesta', 'Orquesta workflow: its tasks run as child executions, advanced by the conductor', true)
ON CONFLICT (name) DO NOTHING;

-- paused: a workflow that starts nothing new (attune execution pause, or a child waiting for a
-- human: core.ask); its running children still finish. pending: a core.ask execution waiting
-- for its response (issue 11, added by the inquiry work; listed here so both migrations agree).
ALTER TABLE attune.execution DROP CONSTRAINT execution_status_check;
ALTER TABLE attune.execution ADD CONSTRAINT execution_status_check CHECK (status IN ('requested',
    'scheduled', 'running', 'canceling', 'paused', 'pending',
    'completed', 'failed', 'timeout', 'cancelled', 'abandoned'));

-- A workflow's child: parent_id is the workflow execution; task, task_route, task_item and
-- task_retry say which task instance, with-items item and workflow retry it runs. NULL on
-- executions that are not a workflow's task.
ALTER TABLE attune.execution
    ADD COLUMN parent_id  bigint REFERENCES attune.execution (id) ON DELETE CASCADE,
    ADD COLUMN task       text,
    ADD COLUMN task_route integer,
    ADD COLUMN task_item  integer,
    ADD COLUMN task_retry integer;
COMMENT ON COLUMN attune.execution.parent_id IS 'The workflow execution this execution is a task of; NULL for top-level executions';
COMMENT ON COLUMN attune.execution.task IS 'The workflow task this execution runs the action of';
COMMENT ON COLUMN attune.execution.task_route IS 'Which instance of the task (0, 1, ...): a task reached again by a loop, or by a second branch without join, is a new instance';
COMMENT ON COLUMN attune.execution.task_item IS 'The with-items item index (0-based); NULL for a task without with-items';
COMMENT ON COLUMN attune.execution.task_retry IS 'The workflow retry (task retry: or do: retry) this execution is, 0 for the first run; the action''s own retry policy counts in attempt';
-- A workflow's children, for cancel and the task tree.
CREATE INDEX execution_parent_idx ON attune.execution (parent_id, id) WHERE parent_id IS NOT NULL;
-- One child per (workflow, task, instance, item, workflow retry, policy attempt): a redelivered
-- or repeated advance creates nothing twice.
CREATE UNIQUE INDEX execution_task_key ON attune.execution
    (parent_id, task, task_route, COALESCE(task_item, -1), task_retry, attempt) WHERE parent_id IS NOT NULL;

-- One row per workflow execution: where the workflow stands. Locked (SELECT ... FOR UPDATE) by
-- every transaction that advances, pauses, resumes or cancels it, so two children finishing at
-- the same moment take turns and neither branch is lost.
CREATE TABLE attune.workflow (
    execution_id bigint PRIMARY KEY REFERENCES attune.execution (id) ON DELETE CASCADE,
    state        text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'paused', 'canceling', 'finished')),
    failed       boolean NOT NULL DEFAULT false,
    paused_by    text NOT NULL DEFAULT '',
    context      jsonb NOT NULL DEFAULT '{}',
    errors       jsonb NOT NULL DEFAULT '[]',
    task_runs    integer NOT NULL DEFAULT 0,
    max_task_runs integer NOT NULL,
    definition   text NOT NULL,
    file         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE attune.workflow IS 'One row per Orquesta workflow execution: its state, context and errors';
COMMENT ON COLUMN attune.workflow.state IS 'running: tasks start as they become ready; paused: nothing new starts (attune execution pause, or a child waiting in core.ask); canceling: nothing new starts, running children are being cancelled; finished: the execution has its terminal status';
COMMENT ON COLUMN attune.workflow.failed IS 'An unhandled task failure (or do: fail, or an expression error) happened: nothing new starts, running tasks drain, and the workflow ends failed';
COMMENT ON COLUMN attune.workflow.paused_by IS 'Who paused it: "" when running, a user ("cli:alice"), or "inquiry" when a child went pending (its completion resumes the workflow)';
COMMENT ON COLUMN attune.workflow.context IS 'input and vars, then every publish merged in (last writer wins): what output is rendered from';
COMMENT ON COLUMN attune.workflow.errors IS 'The errors that failed it, [{message, task_id}], in the order they happened';
COMMENT ON COLUMN attune.workflow.task_runs IS 'Task instances started so far (loops count every turn)';
COMMENT ON COLUMN attune.workflow.definition IS 'The workflow definition (YAML) as it was when the workflow started: a pack registered again meanwhile does not change a running workflow';
COMMENT ON COLUMN attune.workflow.file IS 'The definition''s file (the action''s entry point), for error messages';
COMMENT ON COLUMN attune.workflow.max_task_runs IS 'workflows.max_task_runs when it started: more task instances than this fail the workflow (a runaway loop)';

-- One row per task instance: a task reached by a transition. A join task's instance waits
-- (state waiting) until enough branches arrived; then it is ready, and starts when the
-- workflow is running.
CREATE TABLE attune.workflow_task (
    id           bigserial PRIMARY KEY,
    workflow_id  bigint NOT NULL REFERENCES attune.workflow (execution_id) ON DELETE CASCADE,
    task         text NOT NULL,
    route        integer NOT NULL,
    state        text NOT NULL CHECK (state IN ('waiting', 'ready', 'running', 'succeeded', 'failed', 'cancelled')),
    context      jsonb NOT NULL DEFAULT '{}',
    arrivals     integer NOT NULL DEFAULT 0,
    retry        integer NOT NULL DEFAULT 0,
    retry_delay  integer NOT NULL DEFAULT 0,
    items        jsonb,
    concurrency  integer NOT NULL DEFAULT 0,
    next_item    integer NOT NULL DEFAULT 0,
    result       jsonb,
    error        text NOT NULL DEFAULT '',
    started_at   timestamptz,
    finished_at  timestamptz,
    CONSTRAINT workflow_task_key UNIQUE (workflow_id, task, route)
);
CREATE INDEX workflow_task_open_idx ON attune.workflow_task (workflow_id, id) WHERE state IN ('waiting', 'ready', 'running');
COMMENT ON TABLE attune.workflow_task IS 'One row per task instance of a workflow; its action runs are the executions with parent_id, task and task_route';
COMMENT ON COLUMN attune.workflow_task.route IS 'Instance number of the task in its workflow (0, 1, ...): a loop or a second branch without join starts a new one';
COMMENT ON COLUMN attune.workflow_task.state IS 'waiting (join: not every branch arrived), ready (to start once the workflow runs), running, succeeded, failed, cancelled';
COMMENT ON COLUMN attune.workflow_task.context IS 'The branch context the instance runs with (ctx()); at a join, the arrivals merged, last writer wins';
COMMENT ON COLUMN attune.workflow_task.arrivals IS 'Branches that arrived at this instance (join)';
COMMENT ON COLUMN attune.workflow_task.retry IS 'Retries done (task retry: or do: retry); the current run''s executions have task_retry = retry';
COMMENT ON COLUMN attune.workflow_task.retry_delay IS 'Seconds the current retry waits before its action is dispatched';
COMMENT ON COLUMN attune.workflow_task.items IS 'with-items: the rendered item list; NULL for a task without with-items';
COMMENT ON COLUMN attune.workflow_task.concurrency IS 'with-items: items run at once; 0 for all';
COMMENT ON COLUMN attune.workflow_task.next_item IS 'with-items: index of the next item to start';
COMMENT ON COLUMN attune.workflow_task.result IS 'result() once finished: the action''s result as workflows see it; with-items: the ordered list of item results';
COMMENT ON COLUMN attune.workflow_task.error IS 'Why the instance failed, when it did';

-- +goose Down
DROP TABLE attune.workflow_task;
DROP TABLE attune.workflow;
DROP INDEX attune.execution_task_key;
DROP INDEX attune.execution_parent_idx;
ALTER TABLE attune.execution DROP COLUMN parent_id, DROP COLUMN task, DROP COLUMN task_route,
    DROP COLUMN task_item, DROP COLUMN task_retry;
ALTER TABLE attune.execution DROP CONSTRAINT execution_status_check;
ALTER TABLE attune.execution ADD CONSTRAINT execution_status_check CHECK (status IN ('requested',
    'scheduled', 'running', 'canceling', 'completed', 'failed', 'timeout', 'cancelled', 'abandoned'));
DELETE FROM attune.action WHERE runtime = 'orquesta';
DELETE FROM attune.runtime WHERE name = 'orquesta';
