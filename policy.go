package attune

// Policy types, in StackStorm's spelling (a pack's policies/*.yaml).
const (
	PolicyConcurrency     = "action.concurrency"
	PolicyConcurrencyAttr = "action.concurrency.attr"
	PolicyRetry           = "action.retry"
)

// What a concurrency policy does with an execution that finds every slot taken.
const (
	PolicyDelay  = "delay"  // wait in requested, admitted first come first served
	PolicyCancel = "cancel" // end cancelled at once, naming the policy
)

// Policy is an action concurrency policy: at most Threshold executions of ActionRef run at once,
// across every replica (per distinct value of the Attributes parameters for
// PolicyConcurrencyAttr). action.retry policies are not stored as policies: the loader folds them
// into the action's RetryPolicy.
type Policy struct {
	Ref        string // "pack.name"
	PackRef    string
	ActionRef  string
	Type       string // PolicyConcurrency or PolicyConcurrencyAttr
	Threshold  int
	OnFull     string   // PolicyDelay or PolicyCancel
	Attributes []string // parameter names, for PolicyConcurrencyAttr
	// Held and Waiting count the executions holding a slot and waiting for one, when read
	// with its state.
	Held, Waiting int
}
