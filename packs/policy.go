package packs

import (
	"regexp"
	"strings"
	"time"

	"github.com/attune-run/attune"
)

// policyName is what a policy's name may hold; StackStorm's names often have dots
// (greet.concurrency).
var policyName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// readPolicies reads policies/*.yaml in StackStorm's shape. Concurrency policies go into
// pack.Policies; action.retry policies are folded into their action's retry (the action's own
// retry: key wins when both are given, with a warning). Run after the actions are read.
func (l *loader) readPolicies() {
	byAction := map[string]string{} // action ref -> file of its concurrency policy
	for _, file := range l.yamlFiles("policies") {
		s, ok := l.parse(file)
		if !ok {
			continue
		}
		l.readPolicy(s, file, byAction)
	}
}

func (l *loader) readPolicy(s scope, file string, byAction map[string]string) {
	if !s.boolean("enabled", true) {
		return
	}
	key := s.alias("name", "ref")
	name := s.str(key)
	switch {
	case key == "":
		s.errorf("", "policy needs a name, like name: %s", strings.TrimSuffix(file[strings.LastIndex(file, "/")+1:], ".yaml"))
		return
	case !policyName.MatchString(name):
		s.errorf(key, "policy name %q must be letters, digits, _, . and -, starting with a letter or _", name)
		return
	}
	if pk := s.str("pack"); pk != "" && pk != l.pack.Ref {
		s.errorf("pack", "policy names pack %q, but this is pack %q", pk, l.pack.Ref)
	}
	ref := l.pack.Ref + "." + strings.TrimPrefix(name, l.pack.Ref+".")
	target := s.str("resource_ref")
	if target == "" {
		s.errorf("", "policy %s needs resource_ref: the action it governs, like resource_ref: %s.deploy", ref, l.pack.Ref)
		return
	}
	actionRef, _, _, ok := l.qualify(target, "action")
	if !ok {
		s.errorf("resource_ref", "resource_ref %q must be an action name from this pack, or pack.name", target)
		return
	}
	typ := s.oneOf("policy_type", "", attune.PolicyConcurrency, attune.PolicyConcurrencyAttr, attune.PolicyRetry)
	if typ == "" {
		if !s.has("policy_type") {
			s.errorf("", "policy %s needs policy_type: %s, %s or %s", ref, attune.PolicyConcurrency, attune.PolicyConcurrencyAttr, attune.PolicyRetry)
		}
		return
	}
	params, _ := s.mapping("parameters")
	if params.m == nil {
		params = scope{d: s.d, path: s.keyPath("parameters"), m: map[string]any{}}
	}
	action := l.localAction(actionRef)
	if typ == attune.PolicyRetry {
		l.readRetryPolicy(s, params, ref, actionRef, action)
		return
	}
	if action == nil && strings.HasPrefix(actionRef, l.pack.Ref+".") {
		s.errorf("resource_ref", "action %q is not defined in this pack: no actions/*.yaml has ref: %s", actionRef, strings.TrimPrefix(actionRef, l.pack.Ref+"."))
	}
	if prev, dup := byAction[actionRef]; dup {
		s.errorf("resource_ref", "action %s already has a concurrency policy in %s; give it one", actionRef, prev)
		return
	}
	byAction[actionRef] = file
	p := attune.Policy{Ref: ref, PackRef: l.pack.Ref, ActionRef: actionRef, Type: typ, OnFull: attune.PolicyDelay}
	th, ok := params.integer("threshold")
	switch {
	case !ok && !params.has("threshold"):
		s.errorf("parameters", "policy %s needs parameters.threshold: how many executions may run at once", ref)
	case ok && th < 1:
		params.errorf("threshold", "parameters.threshold must be at least 1, found %d", th)
	}
	p.Threshold = th
	p.OnFull = params.oneOf("action", attune.PolicyDelay, attune.PolicyDelay, attune.PolicyCancel)
	if typ == attune.PolicyConcurrencyAttr {
		attrs, _ := params.list("attributes")
		for i, a := range attrs {
			name, ok := a.(string)
			switch {
			case !ok || name == "":
				params.errorf("attributes", "parameters.attributes[%d] must be a parameter name", i)
			case action != nil && !hasParam(action, name):
				params.errorf("attributes", "parameters.attributes[%d]: action %s has no parameter %q", i, actionRef, name)
			default:
				p.Attributes = append(p.Attributes, name)
			}
		}
		if len(attrs) == 0 {
			s.errorf("parameters", "policy %s (%s) needs parameters.attributes: the parameters whose values each get threshold slots", ref, typ)
		}
	}
	l.pack.Policies = append(l.pack.Policies, p)
}

// readRetryPolicy folds StackStorm's action.retry into the action's retry policy.
func (l *loader) readRetryPolicy(s, params scope, ref, actionRef string, action *attune.Action) {
	if action == nil {
		s.errorf("resource_ref", "action.retry policy %s must govern an action of this pack; %q is not one", ref, actionRef)
		return
	}
	on := params.oneOf("retry_on", "failure", "failure", "timeout")
	count := 2 // StackStorm's default
	if n, ok := params.integer("max_retry_count"); ok {
		if n < 0 {
			params.errorf("max_retry_count", "parameters.max_retry_count must be 0 or more, found %d", n)
		}
		count = n
	}
	var delay time.Duration
	if d := params.number("delay"); d != nil {
		if *d < 0 {
			params.errorf("delay", "parameters.delay must be 0 or more seconds")
		}
		delay = time.Duration(*d * float64(time.Second))
	}
	if action.Retry != nil {
		l.warns.add(s.d.file, 1, 1, "policy %s: action %s has its own retry:, which wins over this action.retry policy", ref, actionRef)
		return
	}
	status := attune.StatusFailed
	if on == "timeout" {
		status = attune.StatusTimeout
	}
	action.Retry = &attune.RetryPolicy{Count: count, Delay: delay, Backoff: attune.BackoffConstant, On: []attune.ExecutionStatus{status}}
}

// localAction returns this pack's action of ref, or nil.
func (l *loader) localAction(ref string) *attune.Action {
	for i := range l.pack.Actions {
		if l.pack.Actions[i].Ref == ref {
			return &l.pack.Actions[i]
		}
	}
	return nil
}

func hasParam(a *attune.Action, name string) bool {
	_, ok := a.Parameters[name]
	return ok
}
