package attune

import (
	"encoding/json"
	"time"
)

// ExecutionStatus is the lifecycle state of one execution. It is stored as text with a CHECK
// constraint so DBAs can query it directly.
type ExecutionStatus string

// Execution statuses, in lifecycle order.
const (
	StatusRequested ExecutionStatus = "requested"
	StatusScheduled ExecutionStatus = "scheduled"
	StatusRunning   ExecutionStatus = "running"
	// StatusPending waits for a human's answer to an inquiry (core.ask); no worker holds it.
	StatusPending   ExecutionStatus = "pending"
	StatusCanceling ExecutionStatus = "canceling"
	// StatusPaused is a workflow that starts no new task (attune execution pause, or a child
	// waiting for a human); its running children still finish.
	StatusPaused    ExecutionStatus = "paused"
	StatusCompleted ExecutionStatus = "completed"
	StatusFailed    ExecutionStatus = "failed"
	StatusTimeout   ExecutionStatus = "timeout"
	StatusCancelled ExecutionStatus = "cancelled"
	StatusAbandoned ExecutionStatus = "abandoned"
)

// ExecutionStatuses lists every status, in lifecycle order.
var ExecutionStatuses = []ExecutionStatus{
	StatusRequested, StatusScheduled, StatusRunning, StatusPending, StatusCanceling, StatusPaused,
	StatusCompleted, StatusFailed, StatusTimeout, StatusCancelled, StatusAbandoned,
}

// Terminal reports whether no further transition can follow s.
func (s ExecutionStatus) Terminal() bool {
	switch s {
	case StatusCompleted, StatusFailed, StatusTimeout, StatusCancelled, StatusAbandoned:
		return true
	}
	return false
}

// Valid reports whether s is one of the known statuses.
func (s ExecutionStatus) Valid() bool {
	for _, v := range ExecutionStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// Execution is one run (one attempt) of an action.
type Execution struct {
	ID            int64
	ActionRef     string
	Runtime       string
	EnforcementID *int64 // nil for executions started by hand (attune run)
	Attempt       int
	OriginalID    *int64 // the first attempt, for retries
	RerunOf       *int64 // the execution this one re-runs (attune execution rerun); nil otherwise
	Status        ExecutionStatus
	Parameters    map[string]any  // secret parameters read "********" (their values are in SealedSecrets)
	SealedSecrets []byte          `json:"-"` // the secret parameters' values, encrypted; nil when none
	Result        json.RawMessage // nil until terminal
	Error         string          // one line saying why it did not complete
	Worker        string          // the replica that ran it
	TimeoutSec    int
	CreatedAt     time.Time
	ScheduledAt   *time.Time
	StartedAt     *time.Time
	FinishedAt    *time.Time
	Parent        *TaskRef // the workflow task this execution runs; nil for a top-level execution
}

// TaskRef places a workflow's child execution: which workflow, task instance, with-items item
// and workflow retry it runs.
type TaskRef struct {
	ParentID int64  // the workflow execution
	Task     string // the task's name
	Route    int    // which instance of the task (0, 1, ...)
	Item     int    // the with-items item index; -1 for a task without with-items
	Retry    int    // the workflow retry (0: the first run)
}

// Transition is one recorded status change of an execution.
type Transition struct {
	ExecutionID int64
	From        ExecutionStatus // empty for the first status
	To          ExecutionStatus
	At          time.Time
	Worker      string
	Reason      string
}
