package sensors

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/sensors/schedule"
)

// FireWorker fires every timer due by its job's time. Until that time comes it waits in the
// worker (the job runs up to fireLead early). Then, in one transaction per fireBatch timers, it
// locks the timers due, and for each advances it with a compare-and-set (so a redelivered fire
// does nothing), records the event targeted at the timer's rule with its processing job, and
// inserts the next fire job (one per distinct next time); the last transaction completes the
// job. The rules are enforced by the events' jobs, in parallel, as for any other event: a fire
// transaction stays short however many timers are due together. Ticks missed while nothing ran
// collapse into one fire, whose payload says how many were missed.
type FireWorker struct {
	river.WorkerDefaults[jobs.TimerFireArgs]
	T *Timers
}

// fireBatch is how many timers one fire transaction fires at most; more due at once take
// several transactions of the same job.
const fireBatch = 100

// Work implements river.Worker.
func (w *FireWorker) Work(ctx context.Context, job *river.Job[jobs.TimerFireArgs]) error {
	t := w.T
	due := job.Args.FireAt
	if due.Sub(t.now()) > fireLead {
		// Clock skew with the database made River run it this early: back at the fire time.
		return river.JobSnooze(fireLead)
	}
	// Take a connection shortly before the fire time, so that a pool busy with the previous
	// tick's work makes the fire wait before its time rather than after.
	if err := sleepUntil(ctx, due.Add(-connLead), t.now); err != nil {
		return err
	}
	conn, err := t.P.DB.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("fire at %s: %w", due.Format(time.RFC3339Nano), err)
	}
	defer conn.Release()
	if err := sleepUntil(ctx, due, t.now); err != nil {
		return err
	}
	for {
		n, err := t.fireDue(ctx, conn, job, due)
		if err != nil || n < fireBatch {
			return err
		}
	}
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

// fireDue fires up to fireBatch timers due by due, in one transaction of a few set-based
// statements whatever their number (lock, advance, events, their processing jobs, the next fire
// jobs), and returns how many it locked; when fewer, none is left and the job completes in the
// same transaction. Timers that another transaction holds are skipped: a concurrent fire fires
// them, a rule change reschedules them.
func (t *Timers) fireDue(ctx context.Context, conn *pgxpool.Conn, job *river.Job[jobs.TimerFireArgs], due time.Time) (int, error) {
	var n int
	err := db.InTxOn(ctx, conn, func(q *db.Queries) error {
		timers, err := q.TimersLockDue(ctx, due, fireBatch)
		if err != nil {
			return err
		}
		n = len(timers)
		jobAt := map[time.Time]int64{}
		var fires []db.TimerFire
		var events []db.NewEvent
		firedAt := t.now()
		for _, timer := range timers {
			f, ev, err := t.fire(ctx, q, timer, firedAt, jobAt)
			if err != nil {
				return err
			}
			if f != nil {
				fires, events = append(fires, *f), append(events, ev)
			}
		}
		if len(fires) > 0 {
			if err := t.record(ctx, q, fires, events); err != nil {
				return err
			}
		}
		if n == fireBatch {
			return nil
		}
		_, err = river.JobCompleteTx[*riverpgxv5.Driver](ctx, q.Tx(), job)
		return err
	})
	return n, err
}

// record advances the timers fired (a compare-and-set: a redelivered fire changes nothing) and
// writes their events with the events' processing jobs.
func (t *Timers) record(ctx context.Context, q *db.Queries, fires []db.TimerFire, events []db.NewEvent) error {
	if err := q.TimersAdvance(ctx, fires); err != nil {
		return err
	}
	ids, err := q.EventsInsert(ctx, events)
	if err != nil {
		return err
	}
	process := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		process[i] = river.InsertManyParams{Args: jobs.EventProcessArgs{EventID: id}}
	}
	if _, err := t.P.River.InsertManyTx(ctx, q.Tx(), process); err != nil {
		return fmt.Errorf("insert the processing jobs of %d timer events: %w", len(process), err)
	}
	for i, f := range fires {
		log := t.Log.With("timer_id", f.ID, "rule", events[i].RuleRef, "event_id", ids[i])
		if missed, _ := events[i].Payload["missed"].(int); missed > 0 {
			log.Warn("timer caught up after downtime", "missed", missed, "scheduled_at", f.Expected.UTC())
		} else {
			log.Debug("timer fired", "lateness_ms", f.FiredAt.Sub(f.Expected).Milliseconds())
		}
	}
	return nil
}

// fire computes one fire of a locked, due timer at firedAt: the timer's next fire time (with
// its fire job, inserted in the caller's transaction) and the event to record. A timer whose
// schedule no longer parses is stopped instead, and fire returns nil.
func (t *Timers) fire(ctx context.Context, q *db.Queries, timer db.DueTimer, firedAt time.Time, jobAt map[time.Time]int64) (*db.TimerFire, db.NewEvent, error) {
	scheduled := *timer.NextFireAt
	sched, err := schedule.Parse(timer.TriggerRef, timer.Params, scheduled.Add(-time.Nanosecond))
	if err != nil {
		// Registration checks the schedule, so only a row changed by hand gets here: stop this
		// timer rather than hold up the others due with it.
		t.Log.Error("timer stopped: its schedule does not parse; fix the rule and register its pack again",
			"timer_id", timer.ID, "rule", timer.RuleRef, "error", err)
		_, err := q.TimerDisable(ctx, timer.RuleID)
		return nil, db.NewEvent{}, err
	}
	next, missed := schedule.CatchUp(sched, scheduled, firedAt)
	next = next.Truncate(time.Microsecond)
	f := &db.TimerFire{ID: timer.ID, Expected: scheduled, FiredAt: firedAt}
	if !next.IsZero() {
		jobID, err := t.fireJob(ctx, q, timer.ID, next, jobAt)
		if err != nil {
			return nil, db.NewEvent{}, err
		}
		f.Next, f.FireJobID = &next, &jobID
	}
	advanced := timer.Timer
	advanced.FireCount++
	ruleID, timerID := timer.RuleID, timer.ID
	return f, db.NewEvent{
		TriggerRef: timer.TriggerRef, RuleID: &ruleID, RuleRef: timer.RuleRef, TimerID: &timerID,
		ScheduledAt: &scheduled, Payload: payload(sched, advanced, scheduled, firedAt, next, missed),
	}, nil
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
