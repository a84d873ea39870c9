package db

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// Workflow states (attune.workflow.state).
const (
	WorkflowRunning   = "running"   // tasks start as they become ready
	WorkflowPaused    = "paused"    // nothing new starts; running children finish
	WorkflowCanceling = "canceling" // nothing new starts; running children are being cancelled
	WorkflowFinished  = "finished"  // the execution has its terminal status
)

// Task instance states (attune.workflow_task.state).
const (
	TaskWaiting   = "waiting" // a join that not every branch reached yet
	TaskReady     = "ready"   // to start once the workflow runs
	TaskRunning   = "running"
	TaskSucceeded = "succeeded"
	TaskFailed    = "failed"
	TaskCancelled = "cancelled"
)

// WorkflowError is one error that failed a workflow, as its result lists them.
type WorkflowError struct {
	Message string `json:"message"`
	TaskID  string `json:"task_id,omitempty"`
}

// Workflow is the conductor's state of one workflow execution.
type Workflow struct {
	ExecutionID int64
	State       string
	Failed      bool   // an unhandled failure happened: nothing new starts
	PausedBy    string // who paused it ("inquiry": a child waiting for a human)
	Context     map[string]any
	Errors      []WorkflowError
	TaskRuns    int
	MaxTaskRuns int
	Definition  []byte // the workflow's YAML as it was when it started
	File        string // its file name, for errors
}

// WorkflowTask is one task instance of a workflow.
type WorkflowTask struct {
	ID          int64
	WorkflowID  int64
	Task        string
	Route       int
	State       string
	Context     map[string]any
	Arrivals    int
	Retry       int
	RetryDelay  int   // seconds before the current retry's action is dispatched
	Items       []any // with-items: the item list; nil otherwise
	Concurrency int
	NextItem    int
	Result      any
	Error       string
	StartedAt   *time.Time
	FinishedAt  *time.Time
}

// Done reports whether the instance has finished.
func (t *WorkflowTask) Done() bool {
	return t.State == TaskSucceeded || t.State == TaskFailed || t.State == TaskCancelled
}

func toWorkflow(r dbsqlc.AttuneWorkflow) (Workflow, error) {
	c, err := object(r.Context, "context")
	w := Workflow{
		ExecutionID: r.ExecutionID, State: r.State, Failed: r.Failed, PausedBy: r.PausedBy,
		Context: c, TaskRuns: int(r.TaskRuns), MaxTaskRuns: int(r.MaxTaskRuns),
		Definition: []byte(r.Definition), File: r.File,
	}
	if err == nil {
		err = decode(r.Errors, "errors", &w.Errors)
	}
	if err != nil {
		return Workflow{}, fmt.Errorf("workflow %d: %w", r.ExecutionID, err)
	}
	return w, nil
}

func toWorkflowTask(r dbsqlc.AttuneWorkflowTask) (WorkflowTask, error) {
	c, err := object(r.Context, "context")
	t := WorkflowTask{
		ID: r.ID, WorkflowID: r.WorkflowID, Task: r.Task, Route: int(r.Route), State: r.State,
		Context: c, Arrivals: int(r.Arrivals), Retry: int(r.Retry), RetryDelay: int(r.RetryDelay),
		Concurrency: int(r.Concurrency), NextItem: int(r.NextItem), Error: r.Error,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
	}
	if err == nil && len(r.Items) > 0 {
		t.Items = []any{}
		err = decode(r.Items, "items", &t.Items)
	}
	if err == nil {
		err = decode(r.Result, "result", &t.Result)
	}
	if err != nil {
		return WorkflowTask{}, fmt.Errorf("workflow %d task %s: %w", r.WorkflowID, r.Task, err)
	}
	return t, nil
}

// WorkflowCreate records the state of a workflow that starts: its definition (w.Definition,
// w.File), initial context (input and vars) and w.MaxTaskRuns. A second call for the same
// execution changes nothing.
func (q *Queries) WorkflowCreate(ctx context.Context, w Workflow) error {
	executionID := w.ExecutionID
	c, err := jsonb(w.Context)
	if err != nil {
		return err
	}
	if err := q.q.WorkflowInsert(ctx, dbsqlc.WorkflowInsertParams{ExecutionID: executionID, Context: c,
		MaxTaskRuns: int32(w.MaxTaskRuns), Definition: string(w.Definition), File: w.File}); err != nil {
		return fmt.Errorf("record workflow %d: %w", executionID, err)
	}
	return nil
}

// WorkflowLock returns a workflow's state, locked until the transaction ends. ErrNotFound when
// the execution is not a workflow.
func (q *Queries) WorkflowLock(ctx context.Context, executionID int64) (Workflow, error) {
	r, err := q.q.WorkflowLock(ctx, executionID)
	if err != nil {
		return Workflow{}, notFound(err, "workflow", executionID)
	}
	return toWorkflow(r)
}

// WorkflowGet returns a workflow's state without locking it.
func (q *Queries) WorkflowGet(ctx context.Context, executionID int64) (Workflow, error) {
	r, err := q.q.WorkflowGet(ctx, executionID)
	if err != nil {
		return Workflow{}, notFound(err, "workflow", executionID)
	}
	return toWorkflow(r)
}

// WorkflowSave stores a workflow's state.
func (q *Queries) WorkflowSave(ctx context.Context, w Workflow) error {
	c, err := jsonb(w.Context)
	if err != nil {
		return err
	}
	errs := w.Errors
	if errs == nil {
		errs = []WorkflowError{}
	}
	e, err := jsonb(errs)
	if err != nil {
		return err
	}
	err = q.q.WorkflowUpdate(ctx, dbsqlc.WorkflowUpdateParams{
		ExecutionID: w.ExecutionID, State: w.State, Failed: w.Failed, PausedBy: w.PausedBy,
		Context: c, Errors: e, TaskRuns: int32(w.TaskRuns),
	})
	if err != nil {
		return fmt.Errorf("save workflow %d: %w", w.ExecutionID, err)
	}
	return nil
}

// WorkflowTaskCreate records a new task instance and returns it with its id.
func (q *Queries) WorkflowTaskCreate(ctx context.Context, t WorkflowTask) (WorkflowTask, error) {
	c, err := jsonb(t.Context)
	if err != nil {
		return t, err
	}
	r, err := q.q.WorkflowTaskInsert(ctx, dbsqlc.WorkflowTaskInsertParams{
		WorkflowID: t.WorkflowID, Task: t.Task, Route: int32(t.Route), State: t.State, Context: c,
		Arrivals: int32(t.Arrivals), RetryDelay: int32(t.RetryDelay),
	})
	if err != nil {
		return t, fmt.Errorf("record task %s (instance %d) of workflow %d: %w", t.Task, t.Route, t.WorkflowID, err)
	}
	return toWorkflowTask(r)
}

// WorkflowTaskSave stores a task instance.
func (q *Queries) WorkflowTaskSave(ctx context.Context, t WorkflowTask) error {
	c, err := jsonb(t.Context)
	if err != nil {
		return err
	}
	var items, result []byte
	if t.Items != nil {
		if items, err = json.Marshal(t.Items); err != nil {
			return fmt.Errorf("encode items of task %s: %w", t.Task, err)
		}
	}
	if t.Done() || t.Result != nil {
		if result, err = json.Marshal(t.Result); err != nil {
			return fmt.Errorf("encode result of task %s: %w", t.Task, err)
		}
	}
	err = q.q.WorkflowTaskUpdate(ctx, dbsqlc.WorkflowTaskUpdateParams{
		ID: t.ID, State: t.State, Context: c, Arrivals: int32(t.Arrivals), Retry: int32(t.Retry),
		RetryDelay: int32(t.RetryDelay), Items: items, Concurrency: int32(t.Concurrency), NextItem: int32(t.NextItem),
		Result: result, Error: t.Error, StartedAt: t.StartedAt, FinishedAt: t.FinishedAt,
	})
	if err != nil {
		return fmt.Errorf("save task %s (instance %d) of workflow %d: %w", t.Task, t.Route, t.WorkflowID, err)
	}
	return nil
}

// WorkflowTaskSetNextItem stores a with-items task instance's progress (t.NextItem) alone, for
// an instance stored otherwise as it is: rewriting its item list and context at each item's
// end made the statement grow with the list.
func (q *Queries) WorkflowTaskSetNextItem(ctx context.Context, t WorkflowTask) error {
	if err := q.q.WorkflowTaskSetNextItem(ctx, dbsqlc.WorkflowTaskSetNextItemParams{ID: t.ID, NextItem: int32(t.NextItem)}); err != nil {
		return fmt.Errorf("save item progress of task %s (instance %d) of workflow %d: %w", t.Task, t.Route, t.WorkflowID, err)
	}
	return nil
}

// WorkflowTasks lists a workflow's task instances in the order they were reached.
func (q *Queries) WorkflowTasks(ctx context.Context, workflowID int64) ([]WorkflowTask, error) {
	rows, err := q.q.WorkflowTasks(ctx, workflowID)
	if err != nil {
		return nil, fmt.Errorf("tasks of workflow %d: %w", workflowID, err)
	}
	return mapRows(rows, toWorkflowTask)
}

// WorkflowTasksLive lists the task instances the conductor needs, in the order they were
// reached: those not finished, and the latest instance of each task.
func (q *Queries) WorkflowTasksLive(ctx context.Context, workflowID int64) ([]WorkflowTask, error) {
	rows, err := q.q.WorkflowTasksLive(ctx, workflowID)
	if err != nil {
		return nil, fmt.Errorf("tasks of workflow %d: %w", workflowID, err)
	}
	return mapRows(rows, toWorkflowTask)
}

// WorkflowChildren lists a workflow's child executions, oldest first.
func (q *Queries) WorkflowChildren(ctx context.Context, workflowID int64) ([]attune.Execution, error) {
	rows, err := q.q.WorkflowChildren(ctx, &workflowID)
	if err != nil {
		return nil, fmt.Errorf("children of workflow %d: %w", workflowID, err)
	}
	return mapRows(rows, toExecution)
}

// WorkflowOpenChildren lists a workflow's children that have not finished.
func (q *Queries) WorkflowOpenChildren(ctx context.Context, workflowID int64) ([]attune.Execution, error) {
	rows, err := q.q.WorkflowOpenChildren(ctx, &workflowID)
	if err != nil {
		return nil, fmt.Errorf("open children of workflow %d: %w", workflowID, err)
	}
	return mapRows(rows, toExecution)
}

// WorkflowPendingChildren counts a workflow's children waiting for a human.
func (q *Queries) WorkflowPendingChildren(ctx context.Context, workflowID int64) (int, error) {
	n, err := q.q.WorkflowPendingChildren(ctx, &workflowID)
	if err != nil {
		return 0, fmt.Errorf("pending children of workflow %d: %w", workflowID, err)
	}
	return int(n), nil
}

// WorkflowRunChildren lists the latest attempt of each item of one run of a task instance
// (its retry), by item.
func (q *Queries) WorkflowRunChildren(ctx context.Context, workflowID int64, task string, route, retry int) ([]attune.Execution, error) {
	r32, t32 := int32(route), int32(retry)
	rows, err := q.q.WorkflowRunChildren(ctx, dbsqlc.WorkflowRunChildrenParams{ParentID: &workflowID, Task: &task, TaskRoute: &r32, TaskRetry: &t32})
	if err != nil {
		return nil, fmt.Errorf("executions of task %s of workflow %d: %w", task, workflowID, err)
	}
	return mapRows(rows, toExecution)
}

// WorkflowRunCounts counts the items of one run of a task instance that have not finished
// (open) and those that ended otherwise than completed (bad), by their latest attempt.
func (q *Queries) WorkflowRunCounts(ctx context.Context, workflowID int64, task string, route, retry int) (open, bad int, err error) {
	r32, t32 := int32(route), int32(retry)
	r, err := q.q.WorkflowRunCounts(ctx, dbsqlc.WorkflowRunCountsParams{ParentID: &workflowID, Task: &task, TaskRoute: &r32, TaskRetry: &t32})
	if err != nil {
		return 0, 0, fmt.Errorf("count executions of task %s of workflow %d: %w", task, workflowID, err)
	}
	return int(r.Open), int(r.Bad), nil
}

// ExecutionSetStatus moves an execution between two non-terminal statuses (compare-and-set),
// with its history row; reason is recorded in the history (and, for canceling, in error).
// ErrConflict when it is not in from any more.
func (q *Queries) ExecutionSetStatus(ctx context.Context, id int64, from, to attune.ExecutionStatus, worker, reason string) (attune.Execution, error) {
	r, err := q.q.ExecutionSetStatus(ctx, dbsqlc.ExecutionSetStatusParams{ID: id, Status: string(to), ExpectedStatus: string(from), Error: reason})
	if err != nil {
		if noRow(err) {
			return attune.Execution{}, fmt.Errorf("execution %d to %s: not %s: %w", id, to, from, attune.ErrConflict)
		}
		return attune.Execution{}, fmt.Errorf("execution %d to %s: %w", id, to, err)
	}
	if err := q.history(ctx, id, from, to, worker, reason); err != nil {
		return attune.Execution{}, err
	}
	return toExecution(r)
}
