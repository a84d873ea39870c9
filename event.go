package attune

import "time"

// Timer trigger refs of the core pack.
const (
	TriggerInterval = "core.intervaltimer"
	TriggerCron     = "core.crontimer"
	TriggerDatetime = "core.datetimetimer"
)

// TriggerWebhook is the core trigger of webhooks: a rule on it names its webhook in
// trigger_params.url and fires on POST /api/v1/webhooks/<url>.
const TriggerWebhook = "core.webhook"

// TriggerAction is the core trigger that fires when an execution ends, once per execution
// (StackStorm's core.st2.generic.actiontrigger). Its events are recorded only while an enabled
// rule listens on it.
const TriggerAction = "core.actiontrigger"

// IsTimerTrigger reports whether ref is one of the core timer triggers.
func IsTimerTrigger(ref string) bool {
	return ref == TriggerInterval || ref == TriggerCron || ref == TriggerDatetime
}

// Event records that something happened. Events are immutable.
type Event struct {
	ID         int64
	TriggerRef string
	Payload    map[string]any
	RuleID     *int64 // set when the event targets one rule (timers)
	CreatedAt  time.Time
	// ProcessingError says why the event was given up on without evaluating its rules (a
	// previous attempt died with its process); empty otherwise.
	ProcessingError string
}

// EnforcementStatus is the state of one (rule, event) decision.
type EnforcementStatus string

// Enforcement statuses.
const (
	EnforcementCreated   EnforcementStatus = "created"
	EnforcementProcessed EnforcementStatus = "processed"
	EnforcementFailed    EnforcementStatus = "failed"
)

// Enforcement records that a rule matched an event and what parameters it rendered.
type Enforcement struct {
	ID         int64
	RuleID     *int64
	RuleRef    string
	EventID    int64
	Status     EnforcementStatus
	Parameters map[string]any
	Reason     string
	CreatedAt  time.Time
}

// Timer is the durable schedule of one timer rule: the next fire time and the pending fire job.
type Timer struct {
	ID          int64
	RuleID      int64
	TriggerRef  string
	Params      map[string]any
	Enabled     bool
	NextFireAt  *time.Time
	FireJobID   *int64
	FireCount   int64
	LastFiredAt *time.Time
}

// Worker is a replica that has been seen, with the roles it runs.
type Worker struct {
	Name       string
	Roles      string
	Hostname   string
	PID        int
	StartedAt  time.Time
	LastSeenAt time.Time
}

// QueueCount is the number of River jobs in one queue and state.
type QueueCount struct {
	Queue string
	State string
	Count int64
}
