package db

import (
	"context"

	"github.com/attune-run/attune"
)

// EventReport is an event with what every rule considered for it made of it: `attune event get`
// and GET /api/v1/events/{id} print it.
type EventReport struct {
	Event attune.Event
	// Processing is the state of the event's processing job (River's: available, running,
	// retryable, completed, …); "completed" for an event processed in the step that recorded
	// it (a timer fire); "failed" when it was given up on without evaluating its rules;
	// "unknown" once River has cleaned the finished job up.
	Processing string
	Error      string // why processing failed: the last failed attempt's error, or the reason it was given up on
	Rules      []RuleReport
}

// RuleReport is what one rule made of an event: its outcome and, when it matched, its
// enforcement and the executions that started.
type RuleReport struct {
	RuleRef     string
	RuleID      *int64
	Outcome     attune.MatchOutcome
	Reason      string
	Enforcement *attune.Enforcement // nil when the rule did not match
	Executions  []attune.Execution
}

// EventReport reads event id, its processing job, rule outcomes, enforcements and executions,
// and groups them by rule. It returns attune.ErrNotFound for an unknown event.
func (q *Queries) EventReport(ctx context.Context, id int64) (EventReport, error) {
	ev, err := q.Event(ctx, id)
	if err != nil {
		return EventReport{}, err
	}
	job, err := q.EventProcessJob(ctx, id)
	if err != nil {
		return EventReport{}, err
	}
	outs, err := q.RuleOutcomesByEvent(ctx, id)
	if err != nil {
		return EventReport{}, err
	}
	enfs, err := q.EnforcementsByEvent(ctx, id)
	if err != nil {
		return EventReport{}, err
	}
	xs, err := q.ExecutionsByEvent(ctx, id)
	if err != nil {
		return EventReport{}, err
	}
	r := EventReport{Event: ev, Processing: "unknown", Rules: []RuleReport{}}
	if job.Found {
		r.Processing, r.Error = job.State, job.LastError
		if job.State == "running" && len(outs) > 0 {
			// The step committed; River's batched completer has not marked its job yet.
			r.Processing = "completed"
		}
	} else if len(outs) > 0 {
		r.Processing = "completed" // processed in the step that recorded it (a timer fire)
	}
	if ev.ProcessingError != "" { // given up on without evaluating its rules
		r.Processing, r.Error = "failed", ev.ProcessingError
	}
	index := map[string]int{} // rule ref -> position in r.Rules
	for _, o := range outs {
		index[o.RuleRef] = len(r.Rules)
		r.Rules = append(r.Rules, RuleReport{RuleRef: o.RuleRef, RuleID: o.RuleID, Outcome: o.Outcome, Reason: o.Reason})
	}
	byEnforcement := map[int64]int{} // enforcement id -> position in r.Rules
	for _, n := range enfs {
		i, ok := index[n.RuleRef]
		if !ok { // recorded before rule outcomes were: an enforcement means a match
			i = len(r.Rules)
			index[n.RuleRef] = i
			r.Rules = append(r.Rules, RuleReport{RuleRef: n.RuleRef, RuleID: n.RuleID, Outcome: attune.OutcomeMatched})
		}
		r.Rules[i].Enforcement = &n
		byEnforcement[n.ID] = i
	}
	for _, x := range xs {
		if x.EnforcementID == nil {
			continue
		}
		if i, ok := byEnforcement[*x.EnforcementID]; ok {
			r.Rules[i].Executions = append(r.Rules[i].Executions, x)
		}
	}
	return r, nil
}
