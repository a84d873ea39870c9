package db

import (
	"context"
	"fmt"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// NewRuleOutcome is what one rule made of one event.
type NewRuleOutcome struct {
	EventID int64
	Rule    attune.Rule
	Outcome attune.MatchOutcome
	Reason  string
}

// RuleOutcomeInsert records what a rule made of an event. A second record for the same rule and
// event (a redelivery) changes nothing.
func (q *Queries) RuleOutcomeInsert(ctx context.Context, o NewRuleOutcome) error {
	ruleID := o.Rule.ID
	err := q.q.RuleOutcomeInsert(ctx, dbsqlc.RuleOutcomeInsertParams{
		EventID: o.EventID, RuleID: &ruleID, RuleRef: o.Rule.Ref, Outcome: string(o.Outcome), Reason: o.Reason,
	})
	if err != nil {
		return fmt.Errorf("record outcome of rule %s for event %d: %w", o.Rule.Ref, o.EventID, err)
	}
	return nil
}

// RuleOutcomesByEvent lists what every rule considered for an event made of it, in the order
// they were considered.
func (q *Queries) RuleOutcomesByEvent(ctx context.Context, eventID int64) ([]attune.RuleOutcome, error) {
	rows, err := q.q.RuleOutcomeListByEvent(ctx, eventID)
	if err != nil {
		return nil, fmt.Errorf("rule outcomes of event %d: %w", eventID, err)
	}
	return mapSlice(rows, toRuleOutcome), nil
}

func toRuleOutcome(r dbsqlc.AttuneRuleOutcome) attune.RuleOutcome {
	return attune.RuleOutcome{
		ID: r.ID, EventID: r.EventID, RuleID: r.RuleID, RuleRef: r.RuleRef,
		Outcome: attune.MatchOutcome(r.Outcome), Reason: r.Reason, CreatedAt: r.CreatedAt,
	}
}

// EventJob is the state of an event's attune.event.process job, as River keeps it.
type EventJob struct {
	Found     bool   // false once River's cleaner deleted the finished job, or before it exists
	ID        int64  // the River job id
	State     string // River's job state: available, running, retryable, completed, discarded, …
	Attempt   int
	LastError string // the error of the latest failed attempt
}

// Processed reports whether the job finished: the event was processed (completed) or River gave
// up on it (discarded, cancelled).
func (j EventJob) Processed() bool {
	return j.State == "completed" || j.State == "discarded" || j.State == "cancelled"
}

// EventProcessJob returns the state of the job that processes an event.
func (q *Queries) EventProcessJob(ctx context.Context, eventID int64) (EventJob, error) {
	rows, err := q.q.EventProcessJob(ctx, eventID)
	if err != nil {
		return EventJob{}, fmt.Errorf("processing job of event %d: %w", eventID, err)
	}
	if len(rows) == 0 {
		return EventJob{}, nil
	}
	r := rows[0]
	return EventJob{Found: true, ID: r.ID, State: r.State, Attempt: int(r.Attempt), LastError: r.LastError}, nil
}

// EventConsidered reports whether a processing attempt of an event committed: a rule outcome
// is recorded for it. An event whose trigger had no enabled rule leaves none.
func (q *Queries) EventConsidered(ctx context.Context, eventID int64) (bool, error) {
	ok, err := q.q.RuleOutcomeExists(ctx, eventID)
	if err != nil {
		return false, fmt.Errorf("rule outcomes of event %d: %w", eventID, err)
	}
	return ok, nil
}
