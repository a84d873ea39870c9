package db

import (
	"context"
	"encoding/json"
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

// DueTimer is a timer that is due, with its rule's ref.
type DueTimer struct {
	attune.Timer
	RuleRef string
}

// TimersLockDue returns up to lim enabled timers due by due, oldest fire first, locked until the
// transaction ends; timers that another transaction holds are skipped.
func (q *Queries) TimersLockDue(ctx context.Context, due time.Time, lim int32) ([]DueTimer, error) {
	rows, err := q.q.TimerLockDue(ctx, dbsqlc.TimerLockDueParams{Due: &due, Lim: lim})
	if err != nil {
		return nil, fmt.Errorf("timers due by %s: %w", due.Format(time.RFC3339Nano), err)
	}
	return mapRows(rows, func(r dbsqlc.TimerLockDueRow) (DueTimer, error) {
		tm, err := toTimer(r.AttuneTimer)
		return DueTimer{Timer: tm, RuleRef: r.RuleRef}, err
	})
}

// TimerFire is one fire of a timer for TimersAdvance.
type TimerFire struct {
	ID        int64      `json:"id"`
	Expected  time.Time  `json:"expected"`    // the fire time handled
	Next      *time.Time `json:"next"`        // nil: never again
	FireJobID *int64     `json:"fire_job_id"` // the job of Next
	FiredAt   time.Time  `json:"fired_at"`
}

// TimersAdvance moves many timers from the fire time expected to the next one, in one
// statement. It returns ErrConflict, and the caller rolls back, when any of them is no longer at
// that time or is disabled.
func (q *Queries) TimersAdvance(ctx context.Context, fires []TimerFire) error {
	b, err := json.Marshal(fires)
	if err != nil {
		return fmt.Errorf("encode timer fires: %w", err)
	}
	n, err := q.q.TimerAdvanceMany(ctx, b)
	if err != nil {
		return fmt.Errorf("advance %d timers: %w", len(fires), err)
	}
	if n != int64(len(fires)) {
		return fmt.Errorf("advance %d timers: %d were at their fire time: %w", len(fires), n, attune.ErrConflict)
	}
	return nil
}

// TimerFireJobShared reports whether an enabled timer other than timerID waits for fire job
// jobID (timers due at the same time share one).
func (q *Queries) TimerFireJobShared(ctx context.Context, jobID, timerID int64) (bool, error) {
	shared, err := q.q.TimerFireJobShared(ctx, dbsqlc.TimerFireJobSharedParams{FireJobID: &jobID, ID: timerID})
	if err != nil {
		return false, fmt.Errorf("fire job %d shared: %w", jobID, err)
	}
	return shared, nil
}
