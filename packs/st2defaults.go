package packs

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/rules"
)

// TemplatedDefaults reports whether the worker renders the templated parameter defaults of
// actions on runtime, as StackStorm does: StackStorm's own runners only. cmd of a
// local-shell-cmd is not among them: the runner fills it, shell-quoting each value.
func TemplatedDefaults(runtime string) bool {
	return runtime == attune.RuntimeShellCmd || runtime == attune.RuntimeShellScript || runtime == attune.RuntimePythonScript
}

// isTemplate reports whether a default is a string holding a template or a Jinja statement.
func isTemplate(v any) bool {
	s, ok := v.(string)
	return ok && (strings.Contains(s, "{{") || strings.Contains(s, "{%"))
}

// checkDefaults checks the templated parameter defaults of action a: on a StackStorm runner each
// must compile over the action's parameters and config_context, read no parameter that reads it
// back, and feed a secret (a secret parameter, a secret config key) only into a secret
// parameter, since anything else is stored and shown and may reach argv. Elsewhere a template
// in a default is text, so it may only stand in a string parameter.
func (l *loader) checkDefaults(s scope, a attune.Action) {
	params, _ := s.mapping("parameters")
	specAt := func(name string) at {
		if spec, ok := params.mapping(name); ok {
			return at{spec, "default"}
		}
		return at{s, "parameters"}
	}
	names := sortedKeys(a.Parameters)
	reads := map[string][]string{}
	for _, name := range names {
		spec := a.Parameters[name]
		if !isTemplate(spec.Default) {
			continue
		}
		text := spec.Default.(string)
		if !TemplatedDefaults(a.Runtime) {
			if spec.Type != "" && spec.Type != "string" {
				specAt(name).errorf("parameter %q: default %q is a template, which attune renders only for actions on StackStorm's runners; here it is text, so the parameter must be a string, not %s", name, clip(text), spec.Type)
			}
			continue
		}
		if a.Runtime == attune.RuntimeShellCmd && name == "cmd" {
			continue // checkST2Action: the runner fills it
		}
		if strings.Contains(text, "{%") {
			specAt(name).errorf("parameter %q: default holds a {%% … %%} statement, which attune does not render yet: only {{ expression }} templates are; compute the value in the action, or pass it from the rule", name)
			continue
		}
		refs, err := rules.CheckDefault(text, names)
		if err != nil {
			specAt(name).errorf("parameter %q: default: %v (a default sees the action's parameters by name, config_context, the pack config, and action_context.pack)", name, err)
			continue
		}
		reads[name] = refs.Params
		if spec.Secret {
			continue
		}
		var secrets []string
		for _, p := range refs.Params {
			if a.Parameters[p].Secret {
				secrets = append(secrets, "parameter "+p)
			}
		}
		for _, k := range refs.ConfigKeys {
			if l.pack.ConfigSchema[k].Secret {
				secrets = append(secrets, "config_context."+k)
			}
		}
		if refs.WholeConfig && len(secretNames(l.pack.ConfigSchema)) > 0 {
			secrets = append(secrets, "config_context (by a computed key)")
		}
		if len(secrets) > 0 {
			specAt(name).errorf("parameter %q: default reads the secret %s, but %q is not secret: its value would be stored and shown, and could reach argv; mark %q secret: true",
				name, strings.Join(secrets, ", "), name, name)
		}
	}
	var cyc *DefaultCycle
	if _, err := DefaultOrder(reads); errors.As(err, &cyc) {
		specAt(cyc.Params[0]).errorf("%v", err)
	}
}

// DefaultCycle is parameter defaults that read each other.
type DefaultCycle struct{ Params []string }

// Error names the parameters in the order they read each other.
func (c *DefaultCycle) Error() string {
	return fmt.Sprintf("parameter defaults read each other in a cycle: %s; one of them must not be a template over the others",
		strings.Join(append(slices.Clone(c.Params), c.Params[0]), " → "))
}

// DefaultOrder returns the templated defaults in reads (parameter name to the parameters its
// default reads) in an order where each comes after the templated ones it reads; ties in name
// order. Defaults reading each other are a *DefaultCycle.
func DefaultOrder(reads map[string][]string) ([]string, error) {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var order, stack []string
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case done:
			return nil
		case visiting:
			i := slices.Index(stack, name)
			return &DefaultCycle{Params: slices.Clone(stack[i:])}
		}
		state[name] = visiting
		stack = append(stack, name)
		for _, dep := range reads[name] {
			if _, templated := reads[dep]; templated {
				if err := visit(dep); err != nil {
					return err
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
		order = append(order, name)
		return nil
	}
	for _, name := range sortedKeys(reads) {
		if err := visit(name); err != nil {
			return nil, err
		}
	}
	return order, nil
}
