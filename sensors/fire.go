package sensors

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/sensors/schedule"
)

// FireWorker fires one timer for one scheduled time. It runs up to fireLead early and waits in
// the worker until that time, then joins the replica's next fire round (see rounds): a round
// locks every enabled timer due by then and fires them all in one transaction. Each timer is
// advanced with a compare-and-set, so a redelivered fire, or the fire job of a timer that an
// earlier round fired, does nothing; River completes the job after the commit. Ticks missed
// while nothing ran collapse into one fire, whose payload says how many were missed.
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
	// Take a connection and warm it shortly before the fire time, so that the round neither
	// waits for a connection nor prepares its statements after its time.
	if err := sleepUntil(ctx, scheduled.Add(-connLead), t.now); err != nil {
		return err
	}
	defer t.rounds.warm(ctx, t)()
	if err := sleepUntil(ctx, scheduled, t.now); err != nil {
		return err
	}
	return t.rounds.join(ctx, t)
}

// maxFiresPerRound bounds the timers one round fires; the rest are left to the next round.
const maxFiresPerRound = 1000

// fireDue fires, in one transaction on conn, every enabled timer due by now that no other
// transaction holds: it advances each timer, records one event per timer targeted at its rule,
// and inserts each timer's next fire job and each event's jobs.TimerEventArgs (the rule is
// enforced there, so that the round stays short). It returns how many timers it fired.
func (t *Timers) fireDue(ctx context.Context, conn *pgxpool.Conn) (int, error) {
	fired := 0
	err := db.InTxOn(ctx, conn, func(q *db.Queries) error {
		fired = 0
		due, err := q.TimersLockDue(ctx, t.now(), maxFiresPerRound)
		if err != nil || len(due) == 0 {
			return err
		}
		firedAt := t.now()
		steps := make([]db.TimerStep, 0, len(due))
		fires := make(map[int64]*fire, len(due))
		for _, d := range due {
			f, err := newFire(d, firedAt)
			if err != nil {
				t.Log.Error("timer not fired", "timer_id", d.ID, "rule", d.RuleRef, "error", err)
				continue
			}
			fires[d.ID] = f
			steps = append(steps, db.TimerStep{ID: d.ID, Expected: f.scheduled, Next: f.nextp()})
		}
		advanced, err := q.TimersAdvance(ctx, steps, firedAt)
		if err != nil || len(advanced) == 0 {
			return err
		}
		evs := make([]db.NewEvent, 0, len(advanced))
		for _, tm := range advanced {
			f := fires[tm.ID]
			f.timer = tm
			evs = append(evs, f.event(firedAt))
		}
		eventIDs, err := q.TimerEventsInsert(ctx, evs)
		if err != nil {
			return err
		}
		if err := t.insertRoundJobs(ctx, q, advanced, fires, eventIDs); err != nil {
			return err
		}
		for _, tm := range advanced {
			fires[tm.ID].log(t.Log, eventIDs[tm.ID], firedAt)
		}
		fired = len(advanced)
		return nil
	})
	return fired, err
}

// insertRoundJobs inserts, in one statement, the next fire job of every timer a round advanced
// that fires again and the enforcement job of every event it recorded, and records the fire jobs
// on their timers.
func (t *Timers) insertRoundJobs(ctx context.Context, q *db.Queries, advanced []attune.Timer, fires map[int64]*fire, eventIDs map[int64]int64) error {
	params := make([]river.InsertManyParams, 0, 2*len(advanced))
	var timerIDs []int64
	for _, tm := range advanced {
		if next := fires[tm.ID].next; !next.IsZero() {
			params = append(params, river.InsertManyParams{
				Args: jobs.TimerFireArgs{TimerID: tm.ID, FireAt: next.UTC()}, InsertOpts: t.fireOpts(next),
			})
			timerIDs = append(timerIDs, tm.ID)
		}
	}
	for _, tm := range advanced {
		params = append(params, river.InsertManyParams{Args: jobs.TimerEventArgs{EventID: eventIDs[tm.ID]}})
	}
	res, err := t.P.River.InsertManyTx(ctx, q.Tx(), params)
	if err != nil {
		return fmt.Errorf("insert the jobs of %d timer fires: %w", len(advanced), err)
	}
	if len(timerIDs) == 0 {
		return nil
	}
	jobIDs := make([]int64, len(timerIDs))
	for i := range timerIDs {
		jobIDs[i] = res[i].Job.ID
	}
	return q.TimersSetFireJobs(ctx, timerIDs, jobIDs, t.now())
}

// fire is one timer's tick in a round.
type fire struct {
	due       db.DueTimer
	timer     attune.Timer // as advanced
	sched     schedule.Schedule
	scheduled time.Time // the tick fired: the timer's next_fire_at when locked
	next      time.Time // the tick after it, zero when none
	missed    int       // ticks between the two that passed while nothing fired
}

// newFire computes a due timer's tick: which one it fires, the next one, and how many it skips.
func newFire(d db.DueTimer, firedAt time.Time) (*fire, error) {
	f := &fire{due: d, scheduled: *d.NextFireAt}
	var err error
	if f.sched, err = schedule.Parse(d.TriggerRef, d.Params, f.scheduled.Add(-time.Nanosecond)); err != nil {
		return nil, fmt.Errorf("timer %d of rule %s: %w", d.ID, d.RuleRef, err)
	}
	f.next, f.missed = schedule.CatchUp(f.sched, f.scheduled, firedAt)
	f.next = f.next.Truncate(time.Microsecond) // Postgres keeps microseconds
	return f, nil
}

func (f *fire) nextp() *time.Time {
	if f.next.IsZero() {
		return nil
	}
	return &f.next
}

// event is the event of the tick, targeted at the timer's rule.
func (f *fire) event(firedAt time.Time) db.NewEvent {
	return db.NewEvent{
		TriggerRef: f.timer.TriggerRef, RuleID: &f.timer.RuleID, RuleRef: f.due.RuleRef, TimerID: &f.timer.ID,
		ScheduledAt: &f.scheduled, Payload: payload(f.sched, f.timer, f.scheduled, firedAt, f.next, f.missed),
	}
}

func (f *fire) log(l *slog.Logger, eventID int64, firedAt time.Time) {
	l = l.With("timer_id", f.timer.ID, "rule", f.due.RuleRef, "event_id", eventID)
	if f.missed > 0 {
		l.Warn("timer caught up after downtime", "missed", f.missed, "scheduled_at", f.scheduled.UTC())
	} else {
		l.Debug("timer fired", "lateness_ms", firedAt.Sub(f.scheduled).Milliseconds())
	}
}

// connLead is how long before its fire time a fire job takes its connection from the pool.
const connLead = 100 * time.Millisecond

// sleepUntil waits until at, as now tells the time, or returns ctx's error when the job is
// cancelled (the rule changed) or the replica shuts down first. A time already past returns at
// once, so a test that sets the clock to a fire time fires without waiting.
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
	river.AddWorker(workers, &jobs.TimerEventWorker{P: t.P})
}
