package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
)

// StatusWorker handles one recorded status transition. The transition and its history row are
// already committed; this is where watchers and metrics hear of it. It inserts no job.
type StatusWorker struct {
	river.WorkerDefaults[ExecutionStatusArgs]
	P *Pipeline
}

// Work implements river.Worker.
func (w *StatusWorker) Work(ctx context.Context, job *river.Job[ExecutionStatusArgs]) error {
	w.P.Log.Debug("execution status", "execution_id", job.Args.ExecutionID, "status", job.Args.Status)
	return nil
}

// CompleteWorker handles an execution that reached a terminal status: the place where
// concurrency slots are released and follow-ups start. It never inserts a completion or status
// job, so no completion can loop back into itself.
type CompleteWorker struct {
	river.WorkerDefaults[ExecutionCompleteArgs]
	P *Pipeline
}

// Work implements river.Worker. When the action's retry policy asks for it, it schedules the
// next attempt as a new execution, in the same transaction that completes this job; the UNIQUE
// (original, attempt) key makes a redelivered completion schedule nothing more.
func (w *CompleteWorker) Work(ctx context.Context, job *river.Job[ExecutionCompleteArgs]) error {
	p := w.P
	return p.DB.InTx(ctx, func(q *db.Queries) error {
		x, err := q.Execution(ctx, job.Args.ExecutionID)
		if errors.Is(err, attune.ErrNotFound) {
			return completeTx(ctx, q, job) // pruned
		}
		if err != nil {
			return err
		}
		if !x.Status.Terminal() {
			p.Log.Warn("completion of a non-terminal execution ignored", "execution_id", x.ID, "status", x.Status)
			return completeTx(ctx, q, job)
		}
		if err := p.retry(ctx, q, x); err != nil {
			return err
		}
		return completeTx(ctx, q, job)
	})
}

// retry schedules the next attempt of a finished execution when its action's policy says so.
func (p *Pipeline) retry(ctx context.Context, q *db.Queries, x attune.Execution) error {
	action, actionID, err := q.Action(ctx, x.ActionRef)
	if errors.Is(err, attune.ErrNotFound) {
		return nil // the action is gone: nothing to retry
	}
	if err != nil {
		return err
	}
	delay, ok := action.Retry.Next(x.Attempt, x.Status)
	if !ok {
		return nil
	}
	if x.Parent != nil {
		wf, err := q.WorkflowGet(ctx, x.Parent.ParentID)
		if err != nil && !errors.Is(err, attune.ErrNotFound) {
			return err
		}
		if err == nil && (wf.State == db.WorkflowCanceling || wf.State == db.WorkflowFinished) {
			return nil // a workflow being cancelled, or over, starts nothing more
		}
	}
	original := x.ID
	if x.OriginalID != nil {
		original = *x.OriginalID
	}
	action.Runtime = x.Runtime
	next, err := p.scheduleAt(ctx, q, db.NewExecution{
		Action: action, ActionID: actionID, EnforcementID: x.EnforcementID, Attempt: x.Attempt + 1,
		OriginalID: &original, Parameters: x.Parameters, Secrets: x.SealedSecrets, TimeoutSec: x.TimeoutSec,
		Parent: x.Parent,
	}, after(p.now(), delay))
	if errors.Is(err, attune.ErrConflict) {
		return nil // scheduled by an earlier delivery
	}
	if err != nil {
		return err
	}
	p.Log.Info("execution retried", "execution_id", next.ID, "original_id", original, "attempt", next.Attempt,
		"previous_status", x.Status, "delay", delay)
	return nil
}

// EventWorker matches an event against the rules of its trigger and, in the same transaction,
// records the enforcements, schedules the executions and completes its own job.
type EventWorker struct {
	river.WorkerDefaults[EventProcessArgs]
	P *Pipeline
}

// Work implements river.Worker. An event whose previous processing attempt died with its
// process (the replica ran out of memory or was killed while evaluating its rules) is not
// evaluated again, since it might take the next replica down with it: the event is recorded as
// failed with the reason, and its job completed.
func (w *EventWorker) Work(ctx context.Context, job *river.Job[EventProcessArgs]) error {
	return w.P.DB.InTx(ctx, func(q *db.Queries) error {
		ev, err := q.Event(ctx, job.Args.EventID)
		if errors.Is(err, attune.ErrNotFound) {
			return completeTx(ctx, q, job)
		}
		if err != nil {
			return err
		}
		if previousAttemptDied(job.JobRow) {
			reason := fmt.Sprintf("a previous attempt died while processing this event (processing job %d, attempt %d); not retried, "+
				"so that the event cannot take down another replica: look for a rule whose criteria or templates are too costly for its payload",
				job.ID, job.Attempt-1)
			w.P.Log.Error("event not processed", "event_id", ev.ID, "reason", reason)
			if err := q.EventSetProcessingError(ctx, ev.ID, reason); err != nil {
				return err
			}
			return completeTx(ctx, q, job)
		}
		if err := w.P.ProcessEvent(ctx, q, ev); err != nil {
			return err
		}
		return completeTx(ctx, q, job)
	})
}

// rescuedError is the error River's rescuer records on a job whose worker stopped heartbeating
// it (river internal/maintenance/job_rescuer.go).
const rescuedError = "Stuck job rescued by JobRescuer"

// previousAttemptDied reports whether the attempt before this one ended without returning: River
// rescued it (its process was gone), or it left no error at all.
func previousAttemptDied(job *rivertype.JobRow) bool {
	if job.Attempt <= 1 {
		return false
	}
	if len(job.Errors) == 0 {
		return true
	}
	last := job.Errors[len(job.Errors)-1]
	return last.Attempt < job.Attempt-1 || last.Error == rescuedError
}

// Register adds the pipeline's workers to a River worker bundle.
func Register(workers *river.Workers, p *Pipeline) {
	river.AddWorker(workers, &EventWorker{P: p})
	river.AddWorker(workers, &DispatchWorker{P: p})
	river.AddWorker(workers, &StatusWorker{P: p})
	river.AddWorker(workers, &CompleteWorker{P: p})
	if p.Runtimes != nil {
		p.Runtimes.Add(attune.RuntimeKV, kvRunner{p: p})
	}
}

// after is the time a job delayed by d becomes due; zero (due now) when d is not positive, so
// the job is available at once instead of waiting for River's scheduler to promote it.
func after(now time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return now.Add(d)
}
