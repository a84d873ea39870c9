package packs

import (
	"encoding/json"
	"fmt"

	"github.com/attune-run/attune"
)

// readRule reads one rules/*.yaml file and checks what it points at, its criteria, its action
// parameter templates and, for timer triggers, its schedule.
func (l *loader) readRule(rel string) (attune.Rule, bool) {
	s, ok := l.parse(rel)
	if !ok {
		return attune.Rule{}, false
	}
	s.checkKeys(ruleKeys)
	ref, ok := l.componentRef(s, "rule")
	r := attune.Rule{
		Ref:         ref,
		PackRef:     l.pack.Ref,
		Label:       s.label("label"),
		Description: s.description("description"),
		Enabled:     s.boolean("enabled", true),
	}
	trigger, action := st2Trigger(readTarget(s, triggerForm)), readTarget(s, actionForm)
	r.TriggerRef, r.TriggerParams = l.resolveTarget(trigger, "trigger"), trigger.params
	r.ActionRef, r.ActionParams = l.resolveTarget(action, "action"), action.params
	l.checkTriggerParams(r.TriggerRef, trigger)

	if key := s.alias("criteria", "conditions"); key != "" {
		raw, err := json.Marshal(s.m[key])
		if err != nil {
			s.errorf(key, "%s cannot be stored as JSON: %v", key, err)
		} else if err := checkCriteria(raw); err != nil {
			at{s, key}.errorAtField("criteria", err)
		}
		r.Criteria = raw
	}
	if err := checkTemplates(r.ActionParams); err != nil {
		action.paramsAt.errorAtField("action_params", err)
	}
	if secret := secretKeys(l.pack.ConfigSchema); len(secret) > 0 {
		if path, key := secretConfigRead("action_params", r.ActionParams, secret); path != "" {
			action.paramsAt.errorAtField("action_params", fmt.Errorf("%s: reads config key %q, which config.schema.yaml marks secret: rules see it as ********, never its value; "+
				"give the action a secret parameter whose default is \"{{ config_context.%s }}\" (the worker renders it with the sealed value), or read self.config in a python action", path, key, key))
		}
	}
	l.checkActionParams(r, action)
	if r.TriggerRef == attune.TriggerWebhook {
		if err := checkWebhookParams(r.TriggerParams); err != nil {
			trigger.paramsAt.errorAtField("trigger_params", err)
		}
	}
	l.checkShellCmdParams(r, action)
	if attune.IsTimerTrigger(r.TriggerRef) {
		if err := checkSchedule(r.TriggerRef, r.TriggerParams, l.now); err != nil {
			trigger.paramsAt.errorAtField("trigger_params", err)
		}
	}
	return r, ok
}

// at is a key of a scope that problems are reported at.
type at struct {
	s   scope
	key string
}

func (a at) errorf(format string, args ...any) { a.s.errorf(a.key, format, args...) }

// target is what a rule points at, its trigger or its action, as written in the file.
type target struct {
	ref      string
	refAt    at
	params   map[string]any
	paramsAt at // where problems with params go: their key, else the ref's
}

// targetForm names the keys a rule uses for its trigger or its action.
type targetForm struct {
	kind       string   // "trigger" or "action"; also StackStorm's key for the nested form
	flatRef    string   // attune's key for the ref
	flatParams string   // attune's key for the parameters
	refKeys    []string // keys accepted for the ref inside the nested form
	purpose    string   // what the target is for the rule, for messages
	keys       keys     // the keys of the nested form
}

var (
	triggerForm = targetForm{"trigger", "trigger_ref", "trigger_params", []string{"type", "ref"}, "the trigger whose events it handles", ruleTriggerKeys}
	actionForm  = targetForm{"action", "action_ref", "action_params", []string{"ref"}, "the action it runs", ruleActionKeys}
)

// readTarget reads a rule's trigger or action in either form: attune's flat `trigger_ref:` with
// `trigger_params:`, or StackStorm's nested `trigger: {type: x, parameters: {...}}`. A bare
// `trigger: x` is accepted as well.
func readTarget(s scope, f targetForm) target {
	t := target{refAt: at{s, ""}, params: map[string]any{}}
	var inner scope
	switch key := s.alias(f.flatRef, f.kind); {
	case key == "":
		s.errorf("", "rule needs %s: %s", f.flatRef, f.purpose)
	case key == f.kind && isMapping(s.m[key]):
		inner, _ = s.mapping(key)
		inner.checkKeys(f.keys)
		k := inner.alias(f.refKeys...)
		t.ref, t.refAt = inner.str(k), at{inner, k}
		if k == "" {
			inner.errorf("", "%s needs %s: %s", f.kind, f.refKeys[0], f.purpose)
		}
	default:
		t.ref, t.refAt = s.str(key), at{s, key}
	}
	t.paramsAt = t.refAt
	if inner.d != nil && inner.has("parameters") {
		if s.has(f.flatParams) {
			s.errorf(f.flatParams, "%s and %s.parameters mean the same; keep only one", f.flatParams, f.kind)
		}
		t.params, t.paramsAt = inner.object("parameters"), at{inner, "parameters"}
	} else if s.has(f.flatParams) {
		t.params, t.paramsAt = s.object(f.flatParams), at{s, f.flatParams}
	}
	return t
}

// resolveTarget qualifies t's ref with the pack and checks that a ref into this pack names a
// trigger or action the pack defines, and a ref into core one that core defines. Refs into
// other packs are checked by the registrar, and get a warning here.
func (l *loader) resolveTarget(t target, kind string) string {
	if t.ref == "" {
		return ""
	}
	full, packPart, name, ok := l.qualify(t.ref, kind)
	switch {
	case !ok:
		t.refAt.errorf("%s ref %q must be a name from this pack, or pack.name", kind, clip(t.ref))
		return t.ref
	case tooLong(packPart, MaxPackRefLength) || tooLong(name, MaxNameLength):
		t.refAt.errorf("%s ref %q is too long: a pack ref is at most %d characters and a name at most %d", kind, clip(full), MaxPackRefLength, MaxNameLength)
		return full
	case packPart == l.pack.Ref && !l.isDefined(kind, name):
		t.refAt.errorf("%s %q is not defined in this pack: no %ss/*.yaml has ref: %s", kind, clip(full), kind, clip(name))
	case packPart != l.pack.Ref && l.pack.Ref != "":
		l.checkForeignRef(t, kind, full, packPart)
	}
	return full
}

// isMapping reports whether v is a decoded YAML mapping.
func isMapping(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

// secretKeys is the set of config keys schema marks secret.
func secretKeys(schema attune.ParamSchema) map[string]bool {
	out := map[string]bool{}
	for name, spec := range schema {
		if spec.Secret {
			out[name] = true
		}
	}
	return out
}
