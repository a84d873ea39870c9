package bench

import (
	"fmt"

	"github.com/attune-run/attune"
)

// Triggers and rules of the bench pack. Each event trigger has exactly one rule, so each event
// causes exactly one execution.
const (
	benchPack       = "bench"
	triggerNoop     = "bench.noop_event"
	triggerShell    = "bench.shell_event"
	timerPack       = "benchtimers"
	actionNoop      = "core.noop"
	actionEcho      = "core.echo"
	benchWebhook    = "bench"                // POST /api/v1/webhooks/bench
	renderedMessage = "event {{ event.id }}" // a template, so enforcement renders something
)

// eventPack is the pack of the throughput and latency phases: one rule on each bench trigger,
// running core.noop (in process) and core.echo (shell); and, for the webhook phase, one rule on
// core.webhook {url: bench} running core.noop.
func eventPack() *attune.Pack {
	rule := func(name, trigger, action string) attune.Rule {
		return attune.Rule{
			Ref: benchPack + "." + name, PackRef: benchPack, Enabled: true,
			TriggerRef: trigger, ActionRef: action,
			ActionParams: map[string]any{"message": renderedMessage},
		}
	}
	hook := rule("webhook", attune.TriggerWebhook, actionNoop)
	hook.TriggerParams = map[string]any{"url": benchWebhook}
	return &attune.Pack{
		Ref: benchPack, Version: "1.0.0", Label: "attune bench",
		Triggers: []attune.Trigger{
			{Ref: triggerNoop, PackRef: benchPack, Label: "Bench event for core.noop"},
			{Ref: triggerShell, PackRef: benchPack, Label: "Bench event for core.echo"},
		},
		Rules: []attune.Rule{
			rule("noop", triggerNoop, actionNoop),
			rule("echo", triggerShell, actionEcho),
			hook,
		},
	}
}

// timerRulesPack is the pack of the timer phase: n rules with a one-second interval timer each,
// running core.noop.
func timerRulesPack(n int) *attune.Pack {
	p := &attune.Pack{Ref: timerPack, Version: "1.0.0", Label: "attune bench timers"}
	for i := range n {
		p.Rules = append(p.Rules, attune.Rule{
			Ref: fmt.Sprintf("%s.tick_%03d", timerPack, i+1), PackRef: timerPack, Enabled: true,
			TriggerRef: attune.TriggerInterval, ActionRef: actionNoop,
			TriggerParams: map[string]any{"interval": 1, "unit": "seconds"},
			ActionParams:  map[string]any{"message": "{{ event.payload.scheduled_at }}"},
		})
	}
	return p
}
