package db

import (
	"context"
	"fmt"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// TimerUpsert creates or replaces the timer of a rule.
func (q *Queries) TimerUpsert(ctx context.Context, ruleID int64, triggerRef string, params map[string]any, enabled bool, next *time.Time) (attune.Timer, error) {
	p, err := jsonb(params)
	if err != nil {
		return attune.Timer{}, err
	}
	r, err := q.q.TimerUpsert(ctx, dbsqlc.TimerUpsertParams{
		RuleID: ruleID, TriggerRef: triggerRef, Params: p, Enabled: enabled, NextFireAt: next,
	})
	if err != nil {
		return attune.Timer{}, fmt.Errorf("upsert timer of rule %d: %w", ruleID, err)
	}
	return toTimer(r)
}

// TimerByRule returns the timer of a rule.
func (q *Queries) TimerByRule(ctx context.Context, ruleID int64) (attune.Timer, error) {
	r, err := q.q.TimerGetByRule(ctx, ruleID)
	if err != nil {
		return attune.Timer{}, notFound(err, "timer of rule", ruleID)
	}
	return toTimer(r)
}

// TimerLock returns a timer and locks its row until the transaction ends.
func (q *Queries) TimerLock(ctx context.Context, id int64) (attune.Timer, error) {
	r, err := q.q.TimerGetForUpdate(ctx, id)
	if err != nil {
		return attune.Timer{}, notFound(err, "timer", id)
	}
	return toTimer(r)
}

// TimerAdvance moves a timer from the fire time expected to the next one (nil: never again).
// It returns ErrConflict when the timer is no longer at that fire time or is disabled: the fire
// was already handled, or the rule changed.
func (q *Queries) TimerAdvance(ctx context.Context, id int64, expected time.Time, next *time.Time, firedAt time.Time) (attune.Timer, error) {
	r, err := q.q.TimerAdvance(ctx, dbsqlc.TimerAdvanceParams{
		ID: id, ExpectedFireAt: &expected, NextFireAt: next, FiredAt: &firedAt,
	})
	if err != nil {
		if noRow(err) {
			return attune.Timer{}, fmt.Errorf("timer %d at %s: %w", id, expected.Format(time.RFC3339Nano), attune.ErrConflict)
		}
		return attune.Timer{}, fmt.Errorf("advance timer %d: %w", id, err)
	}
	return toTimer(r)
}

// TimerSetFireJob records the pending fire job of a timer.
func (q *Queries) TimerSetFireJob(ctx context.Context, id, jobID int64) error {
	return q.q.TimerSetFireJob(ctx, dbsqlc.TimerSetFireJobParams{ID: id, FireJobID: &jobID})
}

// TimerDisable disables a rule's timer and returns it, with the fire job to cancel.
// It returns ErrNotFound when the rule has no timer.
func (q *Queries) TimerDisable(ctx context.Context, ruleID int64) (attune.Timer, error) {
	r, err := q.q.TimerDisable(ctx, ruleID)
	if err != nil {
		return attune.Timer{}, notFound(err, "timer of rule", ruleID)
	}
	return toTimer(r)
}

// TimersNeedingJob lists enabled timers whose pending fire job is missing.
func (q *Queries) TimersNeedingJob(ctx context.Context) ([]attune.Timer, error) {
	rows, err := q.q.TimerListNeedingJob(ctx)
	if err != nil {
		return nil, fmt.Errorf("timers needing a fire job: %w", err)
	}
	return mapRows(rows, toTimer)
}
