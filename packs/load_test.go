package packs

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// testNow is the clock of every test load: after 2020, before 2030.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// problemLines loads fsys and returns its problems, one string each, failing when there are none
// or when the error is not Errors.
func problemLines(t *testing.T, fsys fs.FS, dir string) []string {
	t.Helper()
	pack, err := Load(fsys, dir, testNow)
	require.Nil(t, pack)
	var errs Errors
	require.ErrorAs(t, err, &errs)
	require.ErrorIs(t, err, attune.ErrInvalid)
	return strings.Split(errs.Error(), "\n")
}

func float(f float64) *float64 { return &f }

func TestLoadGoodPack(t *testing.T) {
	t.Parallel()

	pack, err := LoadDir("testdata/good", testNow)
	require.NoError(t, err)

	require.Equal(t, "good", pack.Ref)
	require.Equal(t, "Good pack", pack.Label)
	require.Equal(t, "1.2.3-beta.1", pack.Version)
	require.Equal(t, map[string]any{"greeting": "hello", "retries": 3.0, "endpoints": []any{"a", "b"}}, pack.Config)

	actions := map[string]attune.Action{}
	for _, a := range pack.Actions {
		actions[a.Ref] = a
	}
	require.Len(t, actions, 4, "NOTES.txt and actions/scripts/ are not actions")
	require.Len(t, pack.Rules, 3, "rules/.hidden.yaml, which does not parse, is skipped")

	hello := actions["good.hello"]
	require.Equal(t, attune.Action{
		Ref:          "good.hello",
		PackRef:      "good",
		Label:        "Hello",
		Description:  "Greets someone.",
		Runtime:      attune.RuntimeShell, // no runner_type
		EntryPoint:   "hello.sh",
		EntryContent: []byte("#!/bin/sh\necho hello\n"),
		Parameters: attune.ParamSchema{
			"name":  {Type: "string", Description: "Who to greet.", Required: true, Pattern: "^[a-z]+$"},
			"count": {Type: "integer", Default: 2.0, Minimum: float(1), Maximum: float(10)},
			"style": {Type: "string", Enum: []any{"plain", "loud"}, Default: "plain"},
			"ratio": {Type: "number", Default: 0.5},
			"token": {Type: "string", Secret: true},
			"extra": {Type: "object", Default: map[string]any{"a": 1.0, "b": []any{true, nil}}},
			"tags":  {Type: "array", Default: []any{}},
		},
		OutputFormat:      attune.OutputJSON,
		ParameterFormat:   attune.ParamsJSON,    // default
		ParameterDelivery: attune.DeliveryStdin, // default
		TimeoutSec:        30,
	}, hello)

	greet := actions["good.greet"] // StackStorm style: name, pack (its runner is attune's shell)
	require.Equal(t, attune.RuntimeShell, greet.Runtime)
	require.Equal(t, "scripts/greet.sh", greet.EntryPoint)
	require.Contains(t, string(greet.EntryContent), `echo "$greeting"`)
	require.Equal(t, attune.ParamsDotenv, greet.ParameterFormat)
	require.Equal(t, attune.OutputText, greet.OutputFormat)
	one := 1
	require.Equal(t, attune.ParamSchema{"greeting": {Type: "string", Default: "hi", Position: &one}}, greet.Parameters)

	require.Equal(t, attune.RuntimePython, actions["good.pyaction"].Runtime)
	require.Equal(t, []byte("print(\"hi\")\n"), actions["good.pyaction"].EntryContent)

	quiet := actions["good.quiet"]
	require.Equal(t, attune.RuntimeNoop, quiet.Runtime)
	require.Empty(t, quiet.EntryPoint)
	require.Nil(t, quiet.EntryContent)
	require.NotNil(t, quiet.Parameters)
	require.Zero(t, quiet.TimeoutSec)

	triggers := map[string]attune.Trigger{}
	for _, tr := range pack.Triggers {
		triggers[tr.Ref] = tr
	}
	require.Equal(t, attune.Trigger{
		Ref:        "good.item_seen",
		PackRef:    "good",
		Label:      "Item seen",
		Parameters: attune.ParamSchema{"item_id": {Type: "string", Required: true}},
		Payload:    attune.ParamSchema{"item_id": {Type: "string"}, "size": {Type: "integer"}}, // from output:
	}, triggers["good.item_seen"])
	require.Equal(t, attune.ParamSchema{ // payload_schema as JSON Schema, flattened
		"id":   {Type: "string", Required: true},
		"body": {Type: "object"},
	}, triggers["good.webhook"].Payload)

	rules := map[string]attune.Rule{}
	for _, r := range pack.Rules {
		rules[r.Ref] = r
	}
	onItem := rules["good.on_item_seen"]
	require.Equal(t, "good.item_seen", onItem.TriggerRef)
	require.Equal(t, "good.hello", onItem.ActionRef)
	require.True(t, onItem.Enabled, "enabled defaults to true")
	require.JSONEq(t, `[{"field":"item_id","operator":"equals","value":"abc"}]`, string(onItem.Criteria))
	require.Equal(t, map[string]any{"name": "{{ event.payload.item_id }}", "count": 3.0}, onItem.ActionParams)
	require.Equal(t, map[string]any{"item_id": "abc"}, onItem.TriggerParams)

	st2 := rules["good.st2_rule"]
	require.Equal(t, "core.intervaltimer", st2.TriggerRef)
	require.Equal(t, map[string]any{"interval": 10.0, "unit": "minutes"}, st2.TriggerParams)
	require.Equal(t, "good.greet", st2.ActionRef)
	require.Equal(t, map[string]any{"greeting": "tick {{ event.payload.count }}"}, st2.ActionParams)
	require.False(t, st2.Enabled)
	require.JSONEq(t, `{"trigger.count":{"type":"gt","pattern":2}}`, string(st2.Criteria))

	once := rules["good.once"]
	require.Equal(t, "other.thing", once.ActionRef, "refs into other packs are left to the registrar")
	require.Nil(t, once.Criteria)
	require.Equal(t, map[string]any{}, once.ActionParams)
}

func TestLoadBrokenPackReportsEveryProblem(t *testing.T) {
	t.Parallel()

	_, err := LoadDir("testdata/broken", testNow)
	var errs Errors
	require.ErrorAs(t, err, &errs)

	at := make([]string, len(errs))
	for i, p := range errs {
		at[i] = fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
	require.Equal(t, []string{
		"testdata/broken/actions/bad_params.yaml:3:1",  // timeout: abc
		"testdata/broken/actions/bad_params.yaml:4:1",  // output_format: xml
		"testdata/broken/actions/bad_params.yaml:7:5",  // type: strin
		"testdata/broken/actions/bad_params.yaml:10:5", // requird: true
		"testdata/broken/actions/bad_params.yaml:11:5", // default: "ten"
		"testdata/broken/actions/bad_runner.yaml:3:1",  // runner_type: node
		"testdata/broken/actions/dup1.yaml:1:1",        // ref: dup
		"testdata/broken/actions/dup2.yaml:2:1",        // ref: broken.dup
		"testdata/broken/actions/no_entry.yaml:3:1",    // entry_point: missing.sh
		"testdata/broken/pack.yaml:2:1",                // version: "1.0"
		"testdata/broken/rules/bad_rule.yaml:2:1",      // enabled: "yes please"
		"testdata/broken/rules/bad_rule.yaml:3:1",      // trigger_ref: nosuch
		"testdata/broken/rules/bad_rule.yaml:7:5",      // operator: frobnicate
		"testdata/broken/rules/bad_rule.yaml:10:3",     // message: "{{ event.payload. }}"
		"testdata/broken/rules/past.yaml:4:3",          // fire_at in 2020
		"testdata/broken/triggers/syntax.yaml:3:6",     // unclosed {
	}, at)

	msgs := strings.Split(err.Error(), "\n")
	require.Len(t, msgs, len(at))
	for i, want := range []string{
		`timeout must be a whole number, found the string "abc"`,
		`output_format "xml" is not one of text, json`,
		`parameter "message" has unknown type "strin"; use one of string, integer, number, boolean, object, array`,
		`unknown key "requird" in parameter "count"`,
		`parameter "count": default the string "ten" is not of type integer`,
		`unknown runner_type "node"; known runtimes: shell (or bash, sh), python (or python3), noop, http (or http-request), kv, and StackStorm's`,
		`duplicate action ref "broken.dup", also defined in testdata/broken/actions/dup2.yaml:2`,
		`duplicate action ref "broken.dup", also defined in testdata/broken/actions/dup1.yaml:1`,
		`entry_point "missing.sh" not found: expected the file testdata/broken/actions/missing.sh`,
		`version "1.0" is not a semantic version like 1.0.0`,
		`enabled must be true or false, found the string "yes please"`,
		`trigger "broken.nosuch" is not defined in this pack: no triggers/*.yaml has ref: nosuch`,
		`criteria[0].operator: unknown operator "frobnicate"`,
		`action_params.message: template "{{ event.payload. }}"`,
		`trigger_params.fire_at: 2020-01-01T00:00:00Z is in the past`,
		`invalid YAML: `,
	} {
		require.Contains(t, msgs[i], at[i]+": "+want)
	}
}
