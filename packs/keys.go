package packs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/attune-run/attune/internal/yamlsrc"
)

// keys are the keys one kind of mapping in a pack file may hold. Any other key is an error, with
// a "did you mean" when one of them is close, unless it starts with x-: those are the author's
// own and attune ignores them.
type keys struct {
	in      string   // the mapping, for messages: "a rule", "pack.yaml"
	read    []string // what attune reads, in the order a file usually gives them
	ignored []string // accepted so that StackStorm's and the predecessor's files load, and ignored
}

// The keys of every kind of mapping in a pack. To accept a new key, add it here and read it.
var (
	packKeys = keys{in: "pack.yaml",
		read: []string{"ref", "name", "label", "description", "version", "config", "dependencies"},
		ignored: []string{"author", "email", "contributors", "keywords", "tags",
			"python_versions", "stackstorm_version", "system", "files", "uid", "conf_schema", "meta", "runtime_deps"}}
	actionKeys = keys{in: "an action",
		read: []string{"ref", "name", "pack", "label", "description", "enabled", "runner_type", "entry_point",
			"parameters", "parameter_format", "parameter_delivery", "output_format", "timeout", "retry", "env"},
		ignored: []string{"tags", "output_schema", "uid"}}
	retryKeys   = keys{in: "retry", read: []string{"count", "delay", "backoff", "on"}}
	triggerKeys = keys{in: "a trigger",
		read:    []string{"ref", "name", "pack", "label", "description", "parameters", "parameters_schema", "payload", "output", "payload_schema"},
		ignored: []string{"tags", "uid"}}
	ruleKeys = keys{in: "a rule",
		read: []string{"ref", "name", "pack", "label", "description", "enabled", "trigger_ref", "trigger_params",
			"trigger", "action_ref", "action_params", "action", "criteria", "conditions"},
		ignored: []string{"tags", "uid"}}
	ruleTriggerKeys = keys{in: "a rule's trigger", read: []string{"type", "ref", "parameters"}}
	ruleActionKeys  = keys{in: "a rule's action", read: []string{"ref", "parameters"}}
	// jsonSchemaKeys are those of a parameter schema written as a JSON Schema object.
	jsonSchemaKeys = keys{in: "a parameter schema", read: []string{"type", "properties", "required"},
		ignored: []string{"additionalProperties", "description", "title", "$schema"}}
	// specKeys are those of one parameter's spec. position and immutable are StackStorm's.
	specKeys = keys{read: []string{"type", "description", "required", "default", "enum", "secret", "minimum", "maximum", "pattern",
		"position", "immutable", "items", "properties", "additionalProperties"}}
)

// all returns every key k accepts.
func (k keys) all() []string { return append(slices.Clone(k.read), k.ignored...) }

// checkKeys reports every key of s that k does not accept, at the key.
func (s scope) checkKeys(k keys) {
	s.checkKeysIn(k, k.in)
}

// checkKeysIn is checkKeys naming the mapping in, for messages.
func (s scope) checkKeysIn(k keys, in string) {
	known := k.all()
	for _, key := range sortedKeys(s.m) {
		if slices.Contains(known, key) || strings.HasPrefix(key, "x-") {
			continue
		}
		if close := suggest(key, known); close != "" {
			s.errorf(key, "unknown key %q in %s; did you mean %q?", clip(key), in, close)
			continue
		}
		s.errorf(key, "unknown key %q in %s; known keys: %s; write your own keys as x-name", clip(key), in, strings.Join(k.read, ", "))
	}
}

// checkTriggerParams reports each of a rule's trigger_params that the schema of its trigger does
// not declare, when the trigger is this pack's and declares parameters. Core's timers check
// their own (see checkSchedule); another pack's trigger is not known here.
func (l *loader) checkTriggerParams(ref string, t target) {
	if t.paramsAt.key != "trigger_params" && t.paramsAt.key != "parameters" {
		return // no parameters given
	}
	for _, tr := range l.pack.Triggers {
		if tr.Ref != ref || len(tr.Parameters) == 0 || len(l.defined["trigger "+strings.TrimPrefix(ref, l.pack.Ref+".")]) != 1 {
			continue
		}
		params, _ := t.paramsAt.s.mapping(t.paramsAt.key)
		params.checkKeysIn(keys{read: sortedKeys(tr.Parameters)}, fmt.Sprintf("trigger_params of trigger %s", ref))
	}
}

// suggest returns the one key of known that key is a likely typo of, or "" (see yamlsrc.Suggest).
func suggest(key string, known []string) string { return yamlsrc.Suggest(key, known) }
