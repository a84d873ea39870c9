package jobs

import (
	"context"
	"errors"

	"github.com/riverqueue/river"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
)

// KindTimerEvent is the job kind that enforces the rule of one timer event.
const KindTimerEvent = "attune.timer.event"

// TimerEventArgs enforces the rule a timer event is targeted at. A fire round records the
// events of every timer due together in one transaction and inserts one of these per event.
type TimerEventArgs struct {
	EventID int64 `json:"event_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (TimerEventArgs) Kind() string { return KindTimerEvent }

// InsertOpts implements river.JobArgsWithInsertOpts. It runs on the timers queue: a replica that
// fires timers enforces their rules, as it did when the fire enforced them itself.
func (TimerEventArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueTimers, UniqueOpts: unique, MaxAttempts: eventMaxAttempts}
}

// ProcessTimerEvent enforces the rule a timer event is targeted at, in the caller's transaction,
// as ProcessEvent does but without asking whether the rule is still enabled: the fire that
// recorded the event held its timer's row lock and found the timer enabled, and disabling a rule
// disables its timer under that lock, so the rule was enabled at the tick. A rule disabled just
// after its tick still runs that tick, once. A rule deleted since matches nothing. An event that
// is not a timer's is handed to ProcessEvent.
func (p *Pipeline) ProcessTimerEvent(ctx context.Context, q *db.Queries, ev attune.Event) error {
	if ev.RuleID == nil {
		return p.ProcessEvent(ctx, q, ev)
	}
	rule, err := q.RuleByID(ctx, *ev.RuleID)
	if errors.Is(err, attune.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return p.considerRule(ctx, q, ev, rule, map[string]map[string]any{})
}

// TimerEventWorker runs ProcessTimerEvent for one event in one transaction. A redelivery finds
// the rule outcome and the enforcement recorded (unique on (event, rule)) and changes nothing.
type TimerEventWorker struct {
	river.WorkerDefaults[TimerEventArgs]
	P *Pipeline
}

// Work implements river.Worker.
func (w *TimerEventWorker) Work(ctx context.Context, job *river.Job[TimerEventArgs]) error {
	return w.P.DB.InTx(ctx, func(q *db.Queries) error {
		ev, err := q.Event(ctx, job.Args.EventID)
		if errors.Is(err, attune.ErrNotFound) {
			return nil // pruned
		}
		if err != nil {
			return err
		}
		return w.P.ProcessTimerEvent(ctx, q, ev)
	})
}
