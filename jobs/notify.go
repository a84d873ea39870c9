package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
)

// StatusWorker records the end of an execution as a core.actiontrigger event, with the event's
// processing job, in one transaction. announceTerminal inserts its job only while an enabled
// rule listens on that trigger. The event is unique per execution, so a redelivered job records
// nothing twice; an event too deep in a chain of such events (attune.MaxActionTriggerDepth) is
// recorded with the reason and not processed. It never inserts a status job itself.
type StatusWorker struct {
	river.WorkerDefaults[ExecutionStatusArgs]
	P *Pipeline
}

// Work implements river.Worker.
func (w *StatusWorker) Work(ctx context.Context, job *river.Job[ExecutionStatusArgs]) error {
	p := w.P
	return p.DB.InTx(ctx, func(q *db.Queries) error {
		x, err := q.Execution(ctx, job.Args.ExecutionID)
		if errors.Is(err, attune.ErrNotFound) {
			return nil // pruned
		}
		if err != nil {
			return err
		}
		if !x.Status.Terminal() {
			return nil
		}
		ev, ok, err := q.EventInsertForExecution(ctx, db.ActionEvent{
			TriggerRef: attune.TriggerAction, ExecutionID: x.ID, Payload: actionPayload(x),
			MaxDepth: attune.MaxActionTriggerDepth, TooDeep: tooDeep,
		})
		if err != nil || !ok {
			return err // !ok: recorded by an earlier delivery
		}
		if ev.ProcessingError != "" {
			p.Log.Warn("action trigger event not processed", "event_id", ev.ID, "execution_id", x.ID, "reason", ev.ProcessingError)
			return nil
		}
		_, err = p.River.InsertTx(ctx, q.Tx(), EventProcessArgs{EventID: ev.ID}, nil)
		return err
	})
}

// tooDeep is the processing error of a core.actiontrigger event past attune.MaxActionTriggerDepth.
var tooDeep = fmt.Sprintf("not processed: it is more than %d links down a chain of %s events (an execution's end "+
	"starting a rule whose execution's end starts a rule again): look for a rule on %s (or core.st2.generic.actiontrigger) "+
	"that reacts to the end of its own action, and narrow its criteria",
	attune.MaxActionTriggerDepth, attune.TriggerAction, attune.TriggerAction)

// actionPayload is the payload of the core.actiontrigger event of a terminal execution:
// StackStorm's actiontrigger fields (action_name is the action's ref there too), plus the end,
// the error and the attempt.
func actionPayload(x attune.Execution) map[string]any {
	var result any = map[string]any{}
	if len(x.Result) > 0 {
		if err := json.Unmarshal(x.Result, &result); err != nil {
			result = string(x.Result)
		}
	}
	params := x.Parameters
	if params == nil {
		params = map[string]any{}
	}
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	return map[string]any{
		"execution_id": x.ID, "status": string(x.Status),
		"action_name": x.ActionRef, "action_ref": x.ActionRef, "runner_ref": x.Runtime,
		"parameters": params, "result": result, "error": x.Error, "attempt": x.Attempt,
		"start_timestamp": stamp(x.StartedAt), "end_timestamp": stamp(x.FinishedAt),
	}
}

// CompleteWorker schedules the follow-ups of an execution that reached a terminal status: today
// its retry. announceTerminal inserts its job only when the action's retry policy asks for
// another attempt. It never inserts a completion or status job, so no completion can loop back
// into itself.
type CompleteWorker struct {
	river.WorkerDefaults[ExecutionCompleteArgs]
	P *Pipeline
}

// Work implements river.Worker. It schedules the next attempt as a new execution; the UNIQUE
// (original, attempt) key makes a redelivered completion schedule nothing more, so River's
// batched completer finishes the job.
func (w *CompleteWorker) Work(ctx context.Context, job *river.Job[ExecutionCompleteArgs]) error {
	p := w.P
	return p.DB.InTx(ctx, func(q *db.Queries) error {
		x, err := q.Execution(ctx, job.Args.ExecutionID)
		if errors.Is(err, attune.ErrNotFound) {
			return nil // pruned
		}
		if err != nil {
			return err
		}
		if !x.Status.Terminal() {
			p.Log.Warn("completion of a non-terminal execution ignored", "execution_id", x.ID, "status", x.Status)
			return nil
		}
		return p.retry(ctx, q, x)
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
// records the rule outcomes and enforcements and schedules the executions. A redelivery finds
// them recorded (unique on (event, rule)), so River's batched completer finishes the job.
type EventWorker struct {
	river.WorkerDefaults[EventProcessArgs]
	P *Pipeline
}

// Work implements river.Worker. An event whose previous processing attempt died with its
// process (the replica ran out of memory or was killed while evaluating its rules) is not
// evaluated again, since it might take the next replica down with it: the event is recorded as
// failed with the reason. One whose previous attempt committed before its process died is done.
//
// A first delivery shares its transaction with the other events being processed (group commit,
// Pipeline.BatchSize); a later one runs alone.
func (w *EventWorker) Work(ctx context.Context, job *river.Job[EventProcessArgs]) error {
	inTx := w.P.DB.InTx
	if job.Attempt <= 1 {
		inTx = w.P.eventGroup().InTx
	}
	return inTx(ctx, func(q *db.Queries) error {
		ev, rules, err := q.EventWithRules(ctx, job.Args.EventID) // one round trip
		if errors.Is(err, attune.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if previousAttemptDied(job.JobRow) {
			done, err := q.EventConsidered(ctx, ev.ID)
			if err != nil || done {
				return err
			}
			reason := fmt.Sprintf("a previous attempt died while processing this event (processing job %d, attempt %d); not retried, "+
				"so that the event cannot take down another replica: look for a rule whose criteria or templates are too costly for its payload",
				job.ID, job.Attempt-1)
			w.P.Log.Error("event not processed", "event_id", ev.ID, "reason", reason)
			return q.EventSetProcessingError(ctx, ev.ID, reason)
		}
		return w.P.ProcessEventRules(ctx, q, ev, rules)
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
	river.AddWorker(workers, &InquiryExpireWorker{P: p})
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
