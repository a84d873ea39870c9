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

// DueTimer is a timer locked for a fire round, with the ref of its rule.
type DueTimer struct {
	attune.Timer
	RuleRef string
}

// TimersLockDue locks, in id order, up to limit enabled timers whose next fire time is at or
// before now, until the transaction ends. Timers locked by another transaction are skipped.
func (q *Queries) TimersLockDue(ctx context.Context, now time.Time, limit int) ([]DueTimer, error) {
	rows, err := q.q.TimerLockDue(ctx, dbsqlc.TimerLockDueParams{Now: &now, Lim: int32(min(limit, 1<<30))})
	if err != nil {
		return nil, fmt.Errorf("lock timers due at %s: %w", now.Format(time.RFC3339Nano), err)
	}
	return mapRows(rows, func(r dbsqlc.TimerLockDueRow) (DueTimer, error) {
		tm, err := toTimer(r.AttuneTimer)
		return DueTimer{Timer: tm, RuleRef: r.RuleRef}, err
	})
}

// TimerStep moves one timer from the fire time it is at to the next one (nil: never again).
type TimerStep struct {
	ID       int64
	Expected time.Time
	Next     *time.Time
}

// TimersAdvance is TimerAdvance for many timers in one statement, all fired at firedAt. It
// returns the timers it moved; a timer no longer at its expected fire time, or disabled, is left
// out.
func (q *Queries) TimersAdvance(ctx context.Context, steps []TimerStep, firedAt time.Time) ([]attune.Timer, error) {
	p := dbsqlc.TimerAdvanceManyParams{FiredAt: &firedAt}
	for _, s := range steps {
		p.Ids = append(p.Ids, s.ID)
		p.ExpectedFireAts = append(p.ExpectedFireAts, s.Expected)
		p.HasNext = append(p.HasNext, s.Next != nil)
		next := s.Expected
		if s.Next != nil {
			next = *s.Next
		}
		p.NextFireAts = append(p.NextFireAts, next)
	}
	rows, err := q.q.TimerAdvanceMany(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("advance %d timers: %w", len(steps), err)
	}
	return mapRows(rows, toTimer)
}

// TimerEventsInsert records the events of one fire round, each targeted at its rule and
// carrying its timer and scheduled time, and returns their ids by timer id.
func (q *Queries) TimerEventsInsert(ctx context.Context, evs []NewEvent) (map[int64]int64, error) {
	var p dbsqlc.TimerEventInsertManyParams
	for _, e := range evs {
		if e.TimerID == nil || e.RuleID == nil || e.ScheduledAt == nil {
			return nil, fmt.Errorf("timer event for rule %s: timer, rule and scheduled time are required", e.RuleRef)
		}
		b, err := jsonb(e.Payload)
		if err != nil {
			return nil, fmt.Errorf("timer event of timer %d: %w", *e.TimerID, err)
		}
		p.TriggerRefs = append(p.TriggerRefs, e.TriggerRef)
		p.Payloads = append(p.Payloads, string(b))
		p.RuleIds = append(p.RuleIds, *e.RuleID)
		p.RuleRefs = append(p.RuleRefs, e.RuleRef)
		p.TimerIds = append(p.TimerIds, *e.TimerID)
		p.ScheduledAts = append(p.ScheduledAts, *e.ScheduledAt)
	}
	rows, err := q.q.TimerEventInsertMany(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("insert %d timer events: %w", len(evs), err)
	}
	ids := make(map[int64]int64, len(rows))
	for _, r := range rows {
		ids[*r.TimerID] = r.ID
	}
	return ids, nil
}

// TimersSetFireJobs records the pending fire job of each timer: jobIDs[i] is that of ids[i].
func (q *Queries) TimersSetFireJobs(ctx context.Context, ids, jobIDs []int64, now time.Time) error {
	if err := q.q.TimerSetFireJobMany(ctx, dbsqlc.TimerSetFireJobManyParams{Now: now, Ids: ids, FireJobIds: jobIDs}); err != nil {
		return fmt.Errorf("record the fire jobs of %d timers: %w", len(ids), err)
	}
	return nil
}
