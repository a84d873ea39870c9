package rules

import (
	"time"

	"github.com/attune-run/attune"
)

// Env is what templates and criteria expressions can see: {"event": {...}, "rule": {...},
// "pack": {"ref": ..., "config": {...}}, "system": {...}}. Values are JSON-shaped (maps, slices,
// strings, numbers, bools, nil), except system.now, a time.Time. Build it with NewEnv.
type Env map[string]any

// Env root names. A template or expression naming any other root fails to compile.
const (
	RootEvent  = "event"
	RootRule   = "rule"
	RootPack   = "pack"
	RootSystem = "system"
	// RootTrigger is StackStorm's name for the event payload: `{{ trigger.host }}` is
	// `{{ event.payload.host }}`, so a StackStorm rule's templates work as written.
	RootTrigger = "trigger"
)

// roots lists the Env roots known at compile time.
var roots = []string{RootEvent, RootRule, RootPack, RootSystem, RootTrigger, RootKV, RootST2KV, RootConfigContext}

// NewEnv builds the Env for evaluating rule against ev. packConfig is the rule's pack config
// (exposed as pack.config). now is the time of the evaluation: system.now (a time.Time, for date
// arithmetic such as `system.now - date(event.payload.at)`), system.timestamp (its RFC 3339
// text), and the clock of timediff criteria. Other times are RFC 3339 strings in UTC so they
// render the same in a template as in JSON. system.rule repeats the rule's id and ref, as the
// predecessor's templates had them. The payload is shared, not copied. The datastore roots
// (st2kv, kv) are absent, so every key reads as missing, until WithKV gives them a KV.
func NewEnv(ev attune.Event, rule attune.Rule, packConfig map[string]any, now time.Time) Env {
	payload := ev.Payload
	if payload == nil {
		payload = map[string]any{}
	}
	if packConfig == nil {
		packConfig = map[string]any{}
	}
	return Env{
		RootEvent: map[string]any{
			"id":          ev.ID,
			"trigger_ref": ev.TriggerRef,
			"payload":     payload,
			"created_at":  ev.CreatedAt.UTC().Format(time.RFC3339Nano),
		},
		RootRule: map[string]any{
			"id":          rule.ID,
			"ref":         rule.Ref,
			"pack_ref":    rule.PackRef,
			"trigger_ref": rule.TriggerRef,
			"action_ref":  rule.ActionRef,
		},
		RootPack: map[string]any{
			"ref":    rule.PackRef,
			"config": packConfig,
		},
		RootTrigger: payload,
		// StackStorm's name for the pack config; secret config keys read as ********.
		RootConfigContext: packConfig,
		RootSystem: map[string]any{
			"now":       now.UTC(),
			"timestamp": now.UTC().Format(time.RFC3339Nano),
			"rule":      map[string]any{"id": rule.ID, "ref": rule.Ref},
		},
	}
}

// payload returns the event payload in env, or nil when there is none.
func (env Env) payload() any {
	event, ok := env[RootEvent].(map[string]any)
	if !ok {
		return nil
	}
	return event["payload"]
}

// now returns system.now, or the zero time when env was not built by NewEnv.
func (env Env) now() time.Time {
	system, _ := env[RootSystem].(map[string]any)
	t, _ := system["now"].(time.Time)
	return t
}
