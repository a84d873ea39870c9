// Package sensors notices that something happened and records it as an event. Its first
// source is durable timers: each enabled timer rule has its next fire time in Postgres and
// exactly one pending attune.timer.fire job scheduled at that time, unique on (timer, fire
// time). The fire handler writes the event, the enforcement, the execution, the dispatch job and
// the next fire job in one transaction; disabling or deleting the rule cancels the pending fire
// job in the same transaction as the change. The schedule math lives in sensors/schedule.
package sensors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/sensors/schedule"
)

// Timers keeps rules' timers in step with the rules and fires them. Registration (package
// registry) reaches it through registry.Timers: Sync and CancelFire.
type Timers struct {
	P   *jobs.Pipeline
	Log *slog.Logger
	// Now is the clock of the timers (the pipeline's when nil, then the system's): schedules,
	// fire times, which timers are due and how late they fired are all read from it.
	Now func() time.Time

	rounds rounds // this replica's fire rounds
}

func (t *Timers) now() time.Time {
	switch {
	case t.Now != nil:
		return t.Now()
	case t.P != nil && t.P.Now != nil:
		return t.P.Now()
	}
	return time.Now()
}

// Sync makes a rule's timer match the rule, in the caller's transaction: an enabled timer rule
// gets a timer with one pending fire job; a disabled one has its timer disabled and its pending
// fire job cancelled. An unchanged, already scheduled timer keeps its schedule, so registering
// the same pack again does not reset it. Rules on other triggers are left alone.
func (t *Timers) Sync(ctx context.Context, q *db.Queries, rule attune.Rule) error {
	if !attune.IsTimerTrigger(rule.TriggerRef) {
		return t.Stop(ctx, q, rule.ID)
	}
	if !rule.Enabled {
		return t.Stop(ctx, q, rule.ID)
	}
	now := t.now()
	existing, err := q.TimerByRule(ctx, rule.ID)
	switch {
	case err == nil && existing.Enabled &&
		existing.TriggerRef == rule.TriggerRef && sameParams(existing.Params, rule.TriggerParams):
		return nil // unchanged: keep its schedule (a fired datetime timer stays done)
	case err != nil && !errors.Is(err, attune.ErrNotFound):
		return err
	}
	sched, err := schedule.Parse(rule.TriggerRef, rule.TriggerParams, now)
	if err != nil {
		return fmt.Errorf("rule %s: %w", rule.Ref, err)
	}
	// Postgres keeps microseconds: truncate so the fire job's time equals the stored one.
	first := schedule.First(sched, now).Truncate(time.Microsecond)
	var next *time.Time
	if !first.IsZero() {
		next = &first
	}
	if existing.FireJobID != nil { // a changed or re-enabled timer: its old fire job goes
		if err := t.cancel(ctx, q.Tx(), *existing.FireJobID); err != nil {
			return err
		}
	}
	timer, err := q.TimerUpsert(ctx, rule.ID, rule.TriggerRef, rule.TriggerParams, true, next)
	if err != nil {
		return err
	}
	if next == nil {
		return nil
	}
	t.Log.Info("timer scheduled", "rule", rule.Ref, "timer_id", timer.ID, "next_fire_at", next.UTC())
	return t.insertFire(ctx, q, timer.ID, *next)
}

// Stop disables a rule's timer and cancels its pending fire job, in the caller's transaction.
func (t *Timers) Stop(ctx context.Context, q *db.Queries, ruleID int64) error {
	timer, err := q.TimerDisable(ctx, ruleID)
	if errors.Is(err, attune.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if timer.FireJobID != nil {
		return t.cancel(ctx, q.Tx(), *timer.FireJobID)
	}
	return nil
}

// CancelFire cancels a deleted rule's pending fire job, in the caller's transaction.
func (t *Timers) CancelFire(ctx context.Context, q *db.Queries, jobID *int64) error {
	if jobID == nil {
		return nil
	}
	return t.cancel(ctx, q.Tx(), *jobID)
}

func (t *Timers) cancel(ctx context.Context, tx pgx.Tx, jobID int64) error {
	_, err := t.P.River.JobCancelTx(ctx, tx, jobID)
	if err != nil && !errors.Is(err, river.ErrNotFound) {
		return fmt.Errorf("cancel fire job %d: %w", jobID, err)
	}
	return nil
}

// fireLead is how long before its fire time a fire job may run. River's leader moves scheduled
// jobs to available only every 5 s (its scheduler interval), so a job scheduled at its fire time
// would run up to 5 s late, and a timer firing more often than that would fire only every 5 s.
// A fire job is scheduled fireLead early instead, and the fire worker waits until its fire time
// (a snooze would leave the job to the queue's next poll).
const fireLead = 5 * time.Second

// insertFire inserts the fire job of a timer for one time and records it on the timer.
func (t *Timers) insertFire(ctx context.Context, q *db.Queries, timerID int64, at time.Time) error {
	res, err := t.P.River.InsertTx(ctx, q.Tx(), jobs.TimerFireArgs{TimerID: timerID, FireAt: at.UTC()}, t.fireOpts(at))
	if err != nil {
		return fmt.Errorf("insert fire job of timer %d: %w", timerID, err)
	}
	return q.TimerSetFireJob(ctx, timerID, res.Job.ID)
}

// fireOpts are the insert options of the fire job for at: scheduled fireLead early, or
// available now when that is past.
func (t *Timers) fireOpts(at time.Time) *river.InsertOpts {
	opts := &river.InsertOpts{}
	if early := at.Add(-fireLead); early.After(t.now()) {
		opts.ScheduledAt = early
	}
	return opts
}

// Reconcile re-inserts the pending fire job of every enabled timer that lost it. The insert is
// unique on (timer, fire time), so running it while a fire is in flight changes nothing.
func (t *Timers) Reconcile(ctx context.Context) (int, error) {
	n := 0
	err := t.P.DB.InTx(ctx, func(q *db.Queries) error {
		timers, err := q.TimersNeedingJob(ctx)
		if err != nil {
			return err
		}
		for _, tm := range timers {
			if err := t.insertFire(ctx, q, tm.ID, *tm.NextFireAt); err != nil {
				return err
			}
			t.Log.Warn("timer fire job restored", "timer_id", tm.ID, "rule_id", tm.RuleID, "next_fire_at", tm.NextFireAt.UTC())
			n++
		}
		return nil
	})
	return n, err
}

func sameParams(a, b map[string]any) bool {
	return fmt.Sprint(a) == fmt.Sprint(b) // fmt prints maps sorted by key
}
