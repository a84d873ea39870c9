package db

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// NewExecution is an execution to schedule.
type NewExecution struct {
	Action        attune.Action
	ActionID      int64
	EnforcementID *int64
	Attempt       int            // 0 means 1
	OriginalID    *int64         // the first attempt, for retries
	Parameters    map[string]any // as stored: secret parameters redacted
	Secrets       []byte         // the secret parameters' values, sealed; nil when none
	TimeoutSec    int            // 0 means the action's timeout
	RerunOf       *int64         // the execution this one re-runs; nil otherwise
	// Status is the first status: "" means scheduled; attune.StatusRequested for an execution
	// that waits for a slot of a concurrency policy.
	Status attune.ExecutionStatus
	// Enforcement, when set, is the rule's enforcement of an event that starts this execution:
	// it is recorded, processed, in the same statement (EnforcementID is then ignored).
	Enforcement *NewEnforcement
	// Parent places a workflow's child; nil for a top-level execution.
	Parent *attune.TaskRef
}

// ExecutionCreate records a new execution in status scheduled (or n.Status), with its history
// row and, when n.Enforcement is set, the enforcement that starts it, in one statement. It returns
// ErrConflict when the enforcement already has its execution (a redelivery).
func (q *Queries) ExecutionCreate(ctx context.Context, n NewExecution) (attune.Execution, error) {
	p, err := jsonb(n.Parameters)
	if err != nil {
		return attune.Execution{}, err
	}
	attempt := max(n.Attempt, 1)
	timeout := n.TimeoutSec
	if timeout <= 0 {
		timeout = n.Action.TimeoutSec
	}
	if timeout <= 0 {
		timeout = attune.DefaultActionTimeoutSec
	}
	now := time.Now()
	status, scheduledAt := n.Status, &now
	if status == "" {
		status = attune.StatusScheduled
	}
	if status != attune.StatusScheduled {
		scheduledAt = nil
	}
	actionID := n.ActionID
	if e := n.Enforcement; e != nil {
		ruleID := e.Rule.ID
		r, err := q.q.ExecutionInsertEnforced(ctx, dbsqlc.ExecutionInsertEnforcedParams{
			RuleID: &ruleID, RuleRef: e.Rule.Ref, EventID: e.EventID,
			ActionRef: n.Action.Ref, ActionID: &actionID, Runtime: n.Action.Runtime, Status: string(status),
			Parameters: p, Secrets: n.Secrets, TimeoutSeconds: int32(timeout), ScheduledAt: scheduledAt,
		})
		if noRow(err) {
			return attune.Execution{}, fmt.Errorf("enforcement of rule %s for event %d: %w", e.Rule.Ref, e.EventID, attune.ErrConflict)
		}
		if err != nil {
			return attune.Execution{}, fmt.Errorf("insert enforcement of rule %s for event %d and its execution: %w", e.Rule.Ref, e.EventID, err)
		}
		return toExecution(dbsqlc.AttuneExecution(r))
	}
	params := dbsqlc.ExecutionInsertParams{
		ActionRef: n.Action.Ref, ActionID: &actionID, Runtime: n.Action.Runtime,
		EnforcementID: n.EnforcementID, Attempt: int32(attempt), OriginalID: n.OriginalID,
		Status:     string(status),
		Parameters: p, Secrets: n.Secrets, TimeoutSeconds: int32(timeout), ScheduledAt: scheduledAt,
		RerunOf: n.RerunOf,
	}
	if t := n.Parent; t != nil {
		route, retry := int32(t.Route), int32(t.Retry)
		params.ParentID, params.Task, params.TaskRoute, params.TaskRetry = &t.ParentID, &t.Task, &route, &retry
		if t.Item >= 0 {
			item := int32(t.Item)
			params.TaskItem = &item
		}
	}
	r, err := q.q.ExecutionInsert(ctx, params)
	if err != nil {
		if noRow(err) && n.Parent != nil {
			return attune.Execution{}, fmt.Errorf("execution of workflow %d task %s (instance %d, item %d, retry %d) attempt %d: %w",
				n.Parent.ParentID, n.Parent.Task, n.Parent.Route, n.Parent.Item, n.Parent.Retry, attempt, attune.ErrConflict)
		}
		if noRow(err) {
			return attune.Execution{}, fmt.Errorf("execution for enforcement %v attempt %d: %w", deref(n.EnforcementID), attempt, attune.ErrConflict)
		}
		return attune.Execution{}, fmt.Errorf("insert execution of %s: %w", n.Action.Ref, err)
	}
	return toExecution(dbsqlc.AttuneExecution(r))
}

// ExecutionStart moves an execution from scheduled to running on worker. It returns ErrConflict
// when the execution is not scheduled any more: another delivery got there first.
func (q *Queries) ExecutionStart(ctx context.Context, id int64, worker string) (attune.Execution, error) {
	c, err := q.ExecutionClaim(ctx, id, worker)
	return c.Execution, err
}

// Claim is what a worker needs to run the execution it claimed.
type Claim struct {
	Execution attune.Execution
	Action    attune.Action // the action as it is now, with the runtime recorded on the execution
	Pack      attune.Pack   // the action's pack: its config (sealed values still sealed), requirements
}

// ExecutionClaim moves an execution from scheduled to running on worker, records the
// transition, and returns it with its action and the action's pack config, in one statement.
// It returns ErrConflict when the execution is not scheduled any more (another delivery got
// there first) or its action is gone; either way nothing changed.
func (q *Queries) ExecutionClaim(ctx context.Context, id int64, worker string) (Claim, error) {
	r, err := q.q.ExecutionStart(ctx, dbsqlc.ExecutionStartParams{ID: id, Worker: worker})
	if err != nil {
		if noRow(err) {
			return Claim{}, fmt.Errorf("start execution %d: not scheduled, or its action is gone: %w", id, attune.ErrConflict)
		}
		return Claim{}, fmt.Errorf("start execution %d: %w", id, err)
	}
	return toClaim(r)
}

// claimedExecution is the execution part of a claim's row. TestClaimedExecutionCopiesEveryColumn
// fails when a column is added to attune.execution and not here.
func claimedExecution(r dbsqlc.ExecutionStartRow) dbsqlc.AttuneExecution {
	return dbsqlc.AttuneExecution{
		ID: r.ID, ActionRef: r.ActionRef, ActionID: r.ActionID, Runtime: r.Runtime,
		EnforcementID: r.EnforcementID, Attempt: r.Attempt, Status: r.Status, Parameters: r.Parameters,
		Result: r.Result, Error: r.Error, Worker: r.Worker, TimeoutSeconds: r.TimeoutSeconds,
		CreatedAt: r.CreatedAt, ScheduledAt: r.ScheduledAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		UpdatedAt: r.UpdatedAt, OriginalID: r.OriginalID, Secrets: r.Secrets, RerunOf: r.RerunOf,
		ParentID: r.ParentID, Task: r.Task, TaskRoute: r.TaskRoute, TaskItem: r.TaskItem, TaskRetry: r.TaskRetry,
	}
}

// Finish is the terminal outcome of an execution.
type Finish struct {
	From   attune.ExecutionStatus // the status expected now (compare-and-set)
	To     attune.ExecutionStatus // a terminal status
	Result json.RawMessage
	Error  string
	Worker string
}

// ExecutionFinish moves an execution to a terminal status and records the transition, in one
// statement. It returns ErrConflict when the execution is not in f.From any more.
func (q *Queries) ExecutionFinish(ctx context.Context, id int64, f Finish) (attune.Execution, error) {
	if !f.To.Terminal() {
		return attune.Execution{}, fmt.Errorf("finish execution %d: %q is not terminal: %w", id, f.To, attune.ErrInvalid)
	}
	var result []byte
	if len(f.Result) > 0 {
		result = f.Result
	}
	r, err := q.q.ExecutionFinish(ctx, dbsqlc.ExecutionFinishParams{
		ID: id, Status: string(f.To), Result: result, Error: f.Error, ExpectedStatus: string(f.From), Worker: f.Worker,
	})
	if err != nil {
		if noRow(err) {
			return attune.Execution{}, fmt.Errorf("finish execution %d: not %s: %w", id, f.From, attune.ErrConflict)
		}
		return attune.Execution{}, fmt.Errorf("finish execution %d: %w", id, err)
	}
	return toExecution(dbsqlc.AttuneExecution(r))
}

// history records one transition in its own statement. The transitions attune makes write their
// history row in the statement that changes the status (a CTE); this is for a new transition
// that has no such statement yet.
func (q *Queries) history(ctx context.Context, id int64, from, to attune.ExecutionStatus, worker, reason string) error {
	var fp *string
	if from != "" {
		s := string(from)
		fp = &s
	}
	if err := q.q.HistoryInsert(ctx, dbsqlc.HistoryInsertParams{
		ExecutionID: id, FromStatus: fp, ToStatus: string(to), Worker: worker, Reason: reason,
	}); err != nil {
		return fmt.Errorf("record transition of execution %d to %s: %w", id, to, err)
	}
	return nil
}

// Execution returns an execution by id.
func (q *Queries) Execution(ctx context.Context, id int64) (attune.Execution, error) {
	r, err := q.q.ExecutionGet(ctx, id)
	if err != nil {
		return attune.Execution{}, notFound(err, "execution", id)
	}
	return toExecution(r)
}

// ExecutionFilter narrows ExecutionList.
type ExecutionFilter struct {
	Status    attune.ExecutionStatus
	ActionRef string
	Limit     int
}

// Executions lists executions, newest first.
func (q *Queries) Executions(ctx context.Context, f ExecutionFilter) ([]attune.Execution, error) {
	p := dbsqlc.ExecutionListParams{Lim: int32(f.Limit)}
	if f.Status != "" {
		s := string(f.Status)
		p.Status = &s
	}
	if f.ActionRef != "" {
		p.ActionRef = &f.ActionRef
	}
	if p.Lim <= 0 {
		p.Lim = 50
	}
	rows, err := q.q.ExecutionList(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	return mapRows(rows, toExecution)
}

// ExecutionsByEvent lists the executions an event caused.
func (q *Queries) ExecutionsByEvent(ctx context.Context, eventID int64) ([]attune.Execution, error) {
	rows, err := q.q.ExecutionListByEvent(ctx, eventID)
	if err != nil {
		return nil, fmt.Errorf("executions of event %d: %w", eventID, err)
	}
	return mapRows(rows, toExecution)
}

// History lists the recorded transitions of an execution, oldest first.
func (q *Queries) History(ctx context.Context, id int64) ([]attune.Transition, error) {
	rows, err := q.q.HistoryList(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("history of execution %d: %w", id, err)
	}
	return mapSlice(rows, toTransition), nil
}

// ExecutionCounts counts executions by status.
func (q *Queries) ExecutionCounts(ctx context.Context) (map[attune.ExecutionStatus]int64, error) {
	rows, err := q.q.ExecutionCountByStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("count executions: %w", err)
	}
	out := map[attune.ExecutionStatus]int64{}
	for _, r := range rows {
		out[attune.ExecutionStatus(r.Status)] = r.N
	}
	return out, nil
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// ExecutionAttempts lists every attempt of the execution id belongs to, first to last.
func (q *Queries) ExecutionAttempts(ctx context.Context, id int64) ([]attune.Execution, error) {
	x, err := q.Execution(ctx, id)
	if err != nil {
		return nil, err
	}
	root := x.ID
	if x.OriginalID != nil {
		root = *x.OriginalID
	}
	rows, err := q.q.ExecutionAttempts(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("attempts of execution %d: %w", id, err)
	}
	return mapRows(rows, toExecution)
}

// ExecutionsOnSilentWorkers lists running executions whose worker was last seen before cutoff.
func (q *Queries) ExecutionsOnSilentWorkers(ctx context.Context, cutoff time.Time) ([]attune.Execution, error) {
	rows, err := q.q.ExecutionAbandonSilent(ctx, cutoff)
	if err != nil {
		return nil, fmt.Errorf("executions on silent workers: %w", err)
	}
	return mapRows(rows, toExecution)
}
