package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/params"
	"github.com/attune-run/attune/secrets"
)

// stringParamKeys lists the keys given as key=value, which are strings on the command line;
// attune run coerces them to their declared type. Keys given as key:=JSON are not listed: their
// values are passed as written.
func stringParamKeys(args []string) []string {
	var keys []string
	for _, a := range args {
		if k, _, ok := strings.Cut(a, ":="); ok && !strings.Contains(k, "=") {
			keys = slices.DeleteFunc(keys, func(s string) bool { return s == k }) // the last one wins
			continue
		}
		if k, _, ok := strings.Cut(a, "="); ok && k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// coerceArgs converts key=value strings to the type the action declares, where unambiguous
// ("5" for an integer, "true" for a boolean); see params.Coerce.
func coerceArgs(action attune.Action, given map[string]any, stringKeys []string) map[string]any {
	return params.Coerce(action.Parameters, given, stringKeys)
}

// checkParamsDepth rejects parameters nested deeper than attune.MaxNestingDepth.
func checkParamsDepth(given map[string]any) error {
	return params.CheckDepth("parameters", given, attune.MaxNestingDepth)
}

// paramsExit turns a parameter error of attune run into exit code 2 with every field error on
// its own line and the parameters the action takes; nil when err is not about parameters.
func paramsExit(action attune.Action, err error) error {
	if errors.Is(err, secrets.ErrNoKey) {
		return exitError{code: 2, msg: err.Error()}
	}
	var fe params.FieldErrors
	if !errors.As(err, &fe) {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid parameters for %s; nothing was run:\n", action.Ref)
	for _, e := range fe {
		fmt.Fprintf(&b, "  %s\n", e.Error())
	}
	b.WriteString(describeSchema(action))
	return exitError{code: 2, msg: strings.TrimRight(b.String(), "\n")}
}

// describeSchema lists the parameters an action takes, one per line, for people.
func describeSchema(action attune.Action) string {
	if len(action.Parameters) == 0 {
		return action.Ref + " takes no parameters"
	}
	names := make([]string, 0, len(action.Parameters))
	for n := range action.Parameters {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%s takes (key=value, or key:=JSON):\n", action.Ref)
	for _, n := range names {
		s := action.Parameters[n]
		var facts []string
		if s.Type != "" {
			facts = append(facts, s.Type)
		}
		if s.Required {
			facts = append(facts, "required")
		}
		if s.Secret {
			facts = append(facts, "secret")
		}
		if s.Default != nil && !s.Secret {
			facts = append(facts, "default "+jsonText(s.Default))
		}
		if len(s.Enum) > 0 {
			facts = append(facts, "one of "+jsonText(s.Enum))
		}
		if s.Minimum != nil {
			facts = append(facts, ">= "+strconv.FormatFloat(*s.Minimum, 'f', -1, 64))
		}
		if s.Maximum != nil {
			facts = append(facts, "<= "+strconv.FormatFloat(*s.Maximum, 'f', -1, 64))
		}
		if s.Pattern != "" {
			facts = append(facts, "pattern "+s.Pattern)
		}
		line := fmt.Sprintf("  %s (%s)", n, strings.Join(facts, ", "))
		if s.Description != "" {
			line += ": " + s.Description
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// jsonText renders a value as compact JSON for people.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
