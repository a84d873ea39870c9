package db

import (
	"context"
	"fmt"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// NewEvent is an event to record. TimerID and ScheduledAt are set for timer fires, whose
// (timer, scheduled time) is unique.
type NewEvent struct {
	TriggerRef  string
	Payload     map[string]any
	RuleID      *int64
	RuleRef     string
	TimerID     *int64
	ScheduledAt *time.Time
}

// EventInsert records an event.
func (q *Queries) EventInsert(ctx context.Context, e NewEvent) (attune.Event, error) {
	p, err := jsonb(e.Payload)
	if err != nil {
		return attune.Event{}, err
	}
	var ruleRef *string
	if e.RuleRef != "" {
		ruleRef = &e.RuleRef
	}
	r, err := q.q.EventInsert(ctx, dbsqlc.EventInsertParams{
		TriggerRef: e.TriggerRef, Payload: p, RuleID: e.RuleID, RuleRef: ruleRef,
		TimerID: e.TimerID, ScheduledAt: e.ScheduledAt,
	})
	if err != nil {
		return attune.Event{}, fmt.Errorf("insert event for %s: %w", e.TriggerRef, err)
	}
	return toEvent(r)
}

// Event returns an event by id.
func (q *Queries) Event(ctx context.Context, id int64) (attune.Event, error) {
	r, err := q.q.EventGet(ctx, id)
	if err != nil {
		return attune.Event{}, notFound(err, "event", id)
	}
	return toEvent(r)
}

// EventSetProcessingError records why an event was given up on without evaluating its rules.
func (q *Queries) EventSetProcessingError(ctx context.Context, id int64, reason string) error {
	if err := q.q.EventSetProcessingError(ctx, dbsqlc.EventSetProcessingErrorParams{ID: id, ProcessingError: reason}); err != nil {
		return fmt.Errorf("record processing error of event %d: %w", id, err)
	}
	return nil
}

// Events lists the newest events, optionally of one trigger.
func (q *Queries) Events(ctx context.Context, triggerRef string, limit int) ([]attune.Event, error) {
	var tr *string
	if triggerRef != "" {
		tr = &triggerRef
	}
	rows, err := q.q.EventList(ctx, dbsqlc.EventListParams{TriggerRef: tr, Lim: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return mapRows(rows, toEvent)
}

// NewEnforcement is a rule's decision about an event.
type NewEnforcement struct {
	Rule       attune.Rule
	EventID    int64
	Status     attune.EnforcementStatus
	Parameters map[string]any
	Reason     string
}

// EnforcementInsert records an enforcement. It returns ErrConflict when the rule already
// enforced the event (a redelivery).
func (q *Queries) EnforcementInsert(ctx context.Context, e NewEnforcement) (attune.Enforcement, error) {
	p, err := jsonb(e.Parameters)
	if err != nil {
		return attune.Enforcement{}, err
	}
	var resolved *time.Time
	if e.Status != attune.EnforcementCreated {
		now := time.Now()
		resolved = &now
	}
	ruleID := e.Rule.ID
	r, err := q.q.EnforcementInsert(ctx, dbsqlc.EnforcementInsertParams{
		RuleID: &ruleID, RuleRef: e.Rule.Ref, EventID: e.EventID, Status: string(e.Status),
		Parameters: p, Reason: e.Reason, ResolvedAt: resolved,
	})
	if err != nil {
		if noRow(err) {
			return attune.Enforcement{}, fmt.Errorf("enforcement of rule %s for event %d: %w", e.Rule.Ref, e.EventID, attune.ErrConflict)
		}
		return attune.Enforcement{}, fmt.Errorf("insert enforcement of rule %s for event %d: %w", e.Rule.Ref, e.EventID, err)
	}
	return toEnforcement(r)
}

// EnforcementsByEvent lists the enforcements of an event.
func (q *Queries) EnforcementsByEvent(ctx context.Context, eventID int64) ([]attune.Enforcement, error) {
	rows, err := q.q.EnforcementListByEvent(ctx, eventID)
	if err != nil {
		return nil, fmt.Errorf("enforcements of event %d: %w", eventID, err)
	}
	return mapRows(rows, toEnforcement)
}

// Enforcement returns an enforcement by id.
func (q *Queries) Enforcement(ctx context.Context, id int64) (attune.Enforcement, error) {
	r, err := q.q.EnforcementGet(ctx, id)
	if err != nil {
		return attune.Enforcement{}, notFound(err, "enforcement", id)
	}
	return toEnforcement(r)
}
