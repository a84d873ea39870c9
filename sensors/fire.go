package sensors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/sensors/schedule"
)

// FireWorker fires one timer for one scheduled time. It runs up to fireLead early and waits in
// the worker until that time, taking its connection connLead before it. In one transaction it
// then advances the timer
// with a compare-and-set (so a redelivered fire does nothing), records the event targeted at the
// timer's rule, enforces the rule, and inserts the next fire job; River completes the job after the commit. Ticks
// missed while nothing ran collapse into this one fire, whose payload says how many were missed.
type FireWorker struct {
	river.WorkerDefaults[jobs.TimerFireArgs]
	T *Timers
}

// Work implements river.Worker.
func (w *FireWorker) Work(ctx context.Context, job *river.Job[jobs.TimerFireArgs]) error {
	t := w.T
	scheduled := job.Args.FireAt
	if scheduled.Sub(t.now()) > fireLead {
		// Clock skew with the database made River run it this early: back at the fire time.
		return river.JobSnooze(fireLead)
	}
	// Take a connection shortly before the fire time, so that a pool busy with the previous
	// tick's work makes the fire wait before its time rather than after.
	if err := sleepUntil(ctx, scheduled.Add(-connLead), t.now); err != nil {
		return err
	}
	conn, err := t.P.DB.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("fire timer %d: %w", job.Args.TimerID, err)
	}
	defer conn.Release()
	if err := sleepUntil(ctx, scheduled, t.now); err != nil {
		return err
	}
	return db.InTxOn(ctx, conn, func(q *db.Queries) error {
		timer, err := q.TimerLock(ctx, job.Args.TimerID)
		if errors.Is(err, attune.ErrNotFound) {
			return nil // the rule is gone
		}
		if err != nil {
			return err
		}
		if !timer.Enabled || timer.NextFireAt == nil || !timer.NextFireAt.Equal(scheduled) {
			t.Log.Debug("stale timer fire skipped", "timer_id", timer.ID, "fire_at", scheduled)
			return nil
		}
		rule, err := q.RuleByID(ctx, timer.RuleID)
		if err != nil {
			return err
		}
		firedAt := t.now()
		sched, err := schedule.Parse(timer.TriggerRef, timer.Params, scheduled.Add(-time.Nanosecond))
		if err != nil {
			return fmt.Errorf("timer %d of rule %s: %w", timer.ID, rule.Ref, err)
		}
		next, missed := schedule.CatchUp(sched, scheduled, firedAt)
		next = next.Truncate(time.Microsecond)
		var nextp *time.Time
		if !next.IsZero() {
			nextp = &next
		}
		timer, err = q.TimerAdvance(ctx, timer.ID, scheduled, nextp, firedAt)
		if err != nil {
			return err
		}
		ev, err := q.EventInsert(ctx, db.NewEvent{
			TriggerRef: timer.TriggerRef, RuleID: &rule.ID, RuleRef: rule.Ref, TimerID: &timer.ID,
			ScheduledAt: &scheduled, Payload: payload(sched, timer, scheduled, firedAt, next, missed),
		})
		if err != nil {
			return err
		}
		if err := t.P.ProcessEvent(ctx, q, ev); err != nil {
			return err
		}
		if nextp != nil {
			if err := t.insertFire(ctx, q, timer.ID, next); err != nil {
				return err
			}
		}
		log := t.Log.With("timer_id", timer.ID, "rule", rule.Ref, "event_id", ev.ID)
		if missed > 0 {
			log.Warn("timer caught up after downtime", "missed", missed, "scheduled_at", scheduled.UTC())
		} else {
			log.Debug("timer fired", "lateness_ms", firedAt.Sub(scheduled).Milliseconds())
		}
		return nil
	})
}

// connLead is how long before its fire time a fire job takes its connection from the pool.
const connLead = 100 * time.Millisecond

// sleepUntil waits until at, or returns ctx's error when the job is cancelled (the rule
// changed) or the replica shuts down first.
func sleepUntil(ctx context.Context, at time.Time, now func() time.Time) error {
	wait := at.Sub(now())
	if wait <= 0 {
		return nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// payload is the event payload of a timer fire.
func payload(s schedule.Schedule, timer attune.Timer, scheduled, fired, next time.Time, missed int) map[string]any {
	p := map[string]any{
		"type":         s.Kind(),
		"scheduled_at": scheduled.UTC().Format(time.RFC3339Nano),
		"fired_at":     fired.UTC().Format(time.RFC3339Nano),
		"lateness_ms":  fired.Sub(scheduled).Milliseconds(),
		"missed":       missed,
		"count":        timer.FireCount,
		// StackStorm's timer payload, so that criteria written for its timers match.
		"executed_at": fired.UTC().Format("2006-01-02 15:04:05.000000+00:00"),
		"schedule":    nil,
	}
	if !next.IsZero() {
		p["next_fire_at"] = next.UTC().Format(time.RFC3339Nano)
	}
	for k, v := range timer.Params {
		if _, taken := p[k]; !taken {
			p[k] = v
		}
	}
	return p
}

// ReconcileWorker runs Timers.Reconcile; it is a River periodic job (leader only).
type ReconcileWorker struct {
	river.WorkerDefaults[jobs.TimerReconcileArgs]
	T *Timers
}

// Work implements river.Worker.
func (w *ReconcileWorker) Work(ctx context.Context, _ *river.Job[jobs.TimerReconcileArgs]) error {
	_, err := w.T.Reconcile(ctx)
	return err
}

// Register adds the timer workers to a River worker bundle.
func Register(workers *river.Workers, t *Timers) {
	river.AddWorker(workers, &FireWorker{T: t})
	river.AddWorker(workers, &ReconcileWorker{T: t})
}
