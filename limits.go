package attune

// Limits on input from outside: event payloads (attune event emit, webhooks) and action
// parameters (attune run, rendered rule templates). docs/security.md lists them all.
const (
	// MaxNestingDepth is how deeply objects and lists may nest in an event payload or in
	// action parameters; the top-level object is level 1. Deeper data is rejected where it
	// enters, so no stored row is too deep to decode and print.
	MaxNestingDepth = 64
	// MaxPayloadBytes bounds an event payload, as JSON.
	MaxPayloadBytes = 1 << 20
	// MaxActionTriggerDepth is how many links a chain of core.actiontrigger events may have:
	// an execution's event is one link deeper than the event that caused the execution. A
	// deeper event is recorded with a processing error and not processed, so a rule that
	// reacts to the end of its own action stops instead of looping forever.
	MaxActionTriggerDepth = 10
)
