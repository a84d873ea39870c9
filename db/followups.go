package db

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// TerminalFollowUps is what follows an execution's terminal transition.
type TerminalFollowUps struct {
	Slot     ReleasedSlot // the concurrency slot it gave back, when Released
	Released bool         // it held, or waited for, a slot
	Listened bool         // an enabled rule listens on the trigger asked about
	// Retry is its action's retry policy: nil when the action has none, or is gone.
	Retry *attune.RetryPolicy
}

// ExecutionTerminalFollowUps gives back x's concurrency slot and says, in the same statement,
// whether an enabled rule listens on triggerRef and what x's action's retry policy is.
func (q *Queries) ExecutionTerminalFollowUps(ctx context.Context, x attune.Execution, triggerRef string) (TerminalFollowUps, error) {
	var f TerminalFollowUps
	r, err := q.q.ExecutionTerminalFollowUps(ctx, dbsqlc.ExecutionTerminalFollowUpsParams{
		ExecutionID: x.ID, TriggerRef: triggerRef, ActionRef: x.ActionRef,
	})
	if err != nil {
		return f, fmt.Errorf("follow-ups of execution %d: %w", x.ID, err)
	}
	f.Listened = r.Listened
	if r.PolicyRef != nil {
		f.Released = true
		f.Slot = ReleasedSlot{PolicyRef: *r.PolicyRef, Key: deref0(r.SlotKey), State: deref0(r.State)}
	}
	if len(r.Retry) > 0 && string(r.Retry) != "null" {
		f.Retry = &attune.RetryPolicy{}
		if err := json.Unmarshal(r.Retry, f.Retry); err != nil {
			return f, fmt.Errorf("retry policy of action %s: %w", x.ActionRef, err)
		}
	}
	return f, nil
}

// ActionEvent is the event of an execution's end, as the status step records it.
type ActionEvent struct {
	TriggerRef  string
	ExecutionID int64
	Payload     map[string]any
	MaxDepth    int    // the deepest chain of such events that is processed
	TooDeep     string // the processing error of an event past MaxDepth
}

// EventInsertForExecution records the event of an execution's end, one per execution. ok is
// false when it was recorded already (a redelivery). An event deeper than e.MaxDepth is
// recorded with e.TooDeep as its processing error.
func (q *Queries) EventInsertForExecution(ctx context.Context, e ActionEvent) (ev attune.Event, ok bool, err error) {
	p, err := jsonb(e.Payload)
	if err != nil {
		return ev, false, err
	}
	id := e.ExecutionID
	r, err := q.q.EventInsertForExecution(ctx, dbsqlc.EventInsertForExecutionParams{
		TriggerRef: e.TriggerRef, Payload: p, ExecutionID: &id, MaxDepth: int32(e.MaxDepth), TooDeep: e.TooDeep,
	})
	if noRow(err) {
		return ev, false, nil
	}
	if err != nil {
		return ev, false, fmt.Errorf("record the end of execution %d as an event: %w", e.ExecutionID, err)
	}
	ev, err = toEvent(r)
	return ev, err == nil, err
}
