package packs

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// Parameter defaults of StackStorm-shaped actions may be templates over the other parameters
// and config_context, whatever the parameter's type; a cycle, an unknown name, a secret read
// into a non-secret parameter and a {% %} statement are refused at the default, and a template
// default of another type on an attune-shaped action too.
func TestStackStormTemplatedDefaults(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"st/pack.yaml":          {Data: []byte("ref: st\nversion: 0.1.0\n")},
		"st/config.schema.yaml": {Data: []byte("count: {type: integer, default: 3}\ntoken: {type: string, secret: true}\n")},
		"st/actions/ping.yaml": {Data: []byte("name: ping\nrunner_type: local-shell-script\nentry_point: p.sh\nparameters:\n" +
			"  count: {type: integer, default: \"{{ config_context.count }}\"}\n" +
			"  target: {type: string, default: \"{{ host }}:{{ port | default(22) }}\"}\n" +
			"  host: {type: string, required: true}\n  port: {type: integer}\n" +
			"  auth: {type: string, secret: true, default: \"Bearer {{ config_context.token }}\"}\n")},
		"st/actions/p.sh": {Data: []byte("#!/bin/sh\n")},
	}
	p, err := Load(fsys, "st", testNow)
	require.NoError(t, err)
	require.Equal(t, "{{ config_context.count }}", p.Actions[0].Parameters["count"].Default)

	fsys["st/actions/bad.yaml"] = &fstest.MapFile{Data: []byte("name: bad\nrunner_type: python-script\nentry_point: b.py\nparameters:\n" +
		"  a: {type: string, default: \"{{ b }}-x\"}\n" +
		"  b: {type: string, default: \"{{ a }}\"}\n" +
		"  c: {type: string, default: \"{{ nope }}\"}\n" +
		"  d: {type: string, default: \"{{ pw }}\"}\n" +
		"  e: {type: string, default: \"{{ config_context.token | upper }}\"}\n" +
		"  f: {type: string, default: \"{% if a %}x{% endif %}\"}\n" +
		"  pw: {type: string, secret: true}\n")}
	fsys["st/actions/b.py"] = &fstest.MapFile{Data: []byte("from st2common.runners.base_action import Action\n")}
	fsys["st/actions/attune.yaml"] = &fstest.MapFile{Data: []byte("name: attune\nentry_point: p.sh\nparameters:\n" +
		"  n: {type: integer, default: \"{{ config_context.count }}\"}\n")}
	require.Equal(t, []string{
		`st/actions/attune.yaml:4:22: parameter "n": default "{{ config_context.count }}" is a template, which attune renders only for actions on StackStorm's runners; here it is text, so the parameter must be a string, not integer`,
		`st/actions/bad.yaml:5:21: parameter defaults read each other in a cycle: a → b → a; one of them must not be a template over the others`,
		`st/actions/bad.yaml:7:21: parameter "c": default: template "{{ nope }}": line 1, column 4: unknown name nope; known: config_context, action_context, a, b, c, d, e, f, pw (a default sees the action's parameters by name, config_context, the pack config, and action_context.pack)`,
		`st/actions/bad.yaml:8:21: parameter "d": default reads the secret parameter pw, but "d" is not secret: its value would be stored and shown, and could reach argv; mark "d" secret: true`,
		`st/actions/bad.yaml:9:21: parameter "e": default reads the secret config_context.token, but "e" is not secret: its value would be stored and shown, and could reach argv; mark "e" secret: true`,
		`st/actions/bad.yaml:10:21: parameter "f": default holds a {% … %} statement, which attune does not render yet: only {{ expression }} templates are; compute the value in the action, or pass it from the rule`,
	}, problemLines(t, fsys, "st"))
}

// A rule whose action parameters hold a Jinja statement is refused at the parameter, rather
// than passing the statement on as text.
func TestStackStormRuleJinjaStatementRefused(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"st/pack.yaml":         {Data: []byte("ref: st\nversion: 0.1.0\n")},
		"st/actions/note.yaml": {Data: []byte("name: note\nrunner_type: noop\nparameters:\n  msg: {type: string}\n")},
		"st/rules/r.yaml": {Data: []byte("name: r\npack: st\ntrigger: {type: core.st2.IntervalTimer, parameters: {delta: 10, unit: seconds}}\n" +
			"action:\n  ref: st.note\n  parameters:\n    msg: \"{% if trigger.x %}a{% endif %}\"\n")},
	}
	lines := problemLines(t, fsys, "st")
	require.Len(t, lines, 1)
	require.Contains(t, lines[0], `st/rules/r.yaml:`)
	require.Contains(t, lines[0], `action_params.msg: {% … %} statements are not supported: attune renders {{ expression }} templates only`)
}

// A rule reading a secret config key is refused at the parameter: rules see the key as ********
// and would pass the mask on.
func TestStackStormRuleSecretConfigRefused(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"st/pack.yaml":          {Data: []byte("ref: st\nversion: 0.1.0\n")},
		"st/config.schema.yaml": {Data: []byte("token: {type: string, secret: true}\nurl: {type: string}\n")},
		"st/actions/note.yaml":  {Data: []byte("name: note\nrunner_type: noop\nparameters:\n  msg: {type: string}\n  tok: {type: string, secret: true}\n")},
		"st/rules/r.yaml": {Data: []byte("name: r\npack: st\ntrigger: {type: core.st2.IntervalTimer, parameters: {delta: 10, unit: seconds}}\n" +
			"action:\n  ref: st.note\n  parameters:\n    msg: \"{{ config_context.url }}\"\n    tok: \"{{ config_context['token'] }}\"\n")},
	}
	lines := problemLines(t, fsys, "st")
	require.Len(t, lines, 1)
	require.Contains(t, lines[0], `st/rules/r.yaml:8:5: `)
	require.Contains(t, lines[0], `action_params.tok: reads config key "token", which config.schema.yaml marks secret: rules see it as ********, never its value`)
}
