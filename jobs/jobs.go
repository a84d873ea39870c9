// Package jobs holds attune's River job kinds and the workers that run the pipeline: one
// transaction per step, in which the step writes its rows and inserts the next job with
// InsertTx (the steps of concurrent jobs of one kind may share a transaction: group commit,
// Pipeline.BatchSize). Every step is idempotent (compare-and-set on the execution's status, unique keys on
// what it records), so River's batched completer finishes the jobs and a redelivered job finds
// its work done. A job is inserted only when it has work to do: a status job while a rule
// listens on core.actiontrigger, a completion job when a retry is due. A handler never inserts
// the kind it consumes, so the completion loop of the predecessor system cannot be built; every
// args struct carries ids only, and every kind is unique on those ids.
package jobs

import (
	"time"

	"github.com/riverqueue/river"
)

// Job kinds. DBAs see these in river_job.kind.
const (
	KindTimerFire         = "attune.timer.fire"
	KindTimerReconcile    = "attune.timer.reconcile"
	KindEventProcess      = "attune.event.process"
	KindExecutionDispatch = "attune.execution.dispatch"
	KindExecutionStatus   = "attune.execution.status"
	KindExecutionComplete = "attune.execution.complete"
)

// Queues. Each runtime has its own queue, so slow shell actions never starve the control plane.
const (
	QueueTimers = "attune_timers" // timer fires and the timer reconciler (role timers)
	QueueEvents = "attune_events" // event processing, status and completion (role rules)
)

// RuntimeQueue is the queue of the dispatch jobs of one runtime (role workers).
func RuntimeQueue(runtime string) string { return "attune_runtime_" + runtime }

// dispatchMaxAttempts bounds deliveries of one dispatch job. Only the first runs the action;
// later ones (after a lost worker's job is rescued) record the execution abandoned.
const dispatchMaxAttempts = 10

// unique dedupes a kind on its args for as long as River keeps the job, finished or not.
var unique = river.UniqueOpts{ByArgs: true}

// TimerFireArgs fires one timer for one scheduled time.
type TimerFireArgs struct {
	TimerID int64     `json:"timer_id" river:"unique"`
	FireAt  time.Time `json:"fire_at" river:"unique"`
}

// Kind implements river.JobArgs.
func (TimerFireArgs) Kind() string { return KindTimerFire }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (TimerFireArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueTimers, UniqueOpts: unique, MaxAttempts: 25}
}

// TimerReconcileArgs restores the pending fire job of every enabled timer that lost it.
type TimerReconcileArgs struct{}

// Kind implements river.JobArgs.
func (TimerReconcileArgs) Kind() string { return KindTimerReconcile }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (TimerReconcileArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueTimers, MaxAttempts: 1}
}

// EventProcessArgs matches one event against the rules of its trigger.
type EventProcessArgs struct {
	EventID int64 `json:"event_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (EventProcessArgs) Kind() string { return KindEventProcess }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (EventProcessArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueEvents, UniqueOpts: unique, MaxAttempts: eventMaxAttempts}
}

// eventMaxAttempts bounds deliveries of an event's processing job. Processing runs the rules'
// expressions over a payload anyone may send, so a poisonous event is tried a few times, not
// River's default 25; an attempt that died with its process is not followed by another one at
// all (see EventWorker).
const eventMaxAttempts = 3

// ExecutionDispatchArgs runs one execution on a worker of its action's runtime. It is inserted
// with the queue of that runtime.
type ExecutionDispatchArgs struct {
	ExecutionID int64 `json:"execution_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (ExecutionDispatchArgs) Kind() string { return KindExecutionDispatch }

// ExecutionStatusArgs records the end of one execution as a core.actiontrigger event. It is
// inserted with the terminal transition, only while an enabled rule listens on that trigger.
type ExecutionStatusArgs struct {
	ExecutionID int64  `json:"execution_id" river:"unique"`
	Status      string `json:"status" river:"unique"`
}

// Kind implements river.JobArgs.
func (ExecutionStatusArgs) Kind() string { return KindExecutionStatus }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ExecutionStatusArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueEvents, UniqueOpts: unique}
}

// ExecutionCompleteArgs schedules the follow-ups of an execution that reached a terminal
// status. It is inserted with the terminal transition, only when one is due: a retry today.
type ExecutionCompleteArgs struct {
	ExecutionID int64 `json:"execution_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (ExecutionCompleteArgs) Kind() string { return KindExecutionComplete }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ExecutionCompleteArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueEvents, UniqueOpts: unique}
}

// KindInquiryExpire ends an unanswered inquiry at its expiry. DBAs see it in river_job.kind.
const KindInquiryExpire = "attune.inquiry.expire"

// InquiryExpireArgs ends one inquiry with its execution timeout, if it is still pending. It is
// inserted scheduled at the inquiry's expires_at, in the transaction that creates the inquiry.
type InquiryExpireArgs struct {
	InquiryID int64 `json:"inquiry_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (InquiryExpireArgs) Kind() string { return KindInquiryExpire }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (InquiryExpireArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueEvents, UniqueOpts: unique}
}
