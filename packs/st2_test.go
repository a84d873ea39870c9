package packs

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// A pack in StackStorm's shape whose action names hold dots, as the Exchange's ansible pack's
// do: the ref is the pack, a dot, and the whole name; a rule refers to it by that ref.
func TestStackStormDottedActionNames(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"st/pack.yaml": {Data: []byte("ref: st\nname: st\nversion: 0.1.0\nauthor: me\n")},
		"st/actions/galaxy.install.yaml": {Data: []byte("---\nname: galaxy.install\npack: st\nrunner_type: noop\n" +
			"enabled: true\nparameters:\n  roles: {type: array}\n")},
		"st/actions/vault.decrypt.yaml": {Data: []byte("name: st.vault.decrypt\nrunner_type: noop\n")},
		"st/rules/on_tick.yaml": {Data: []byte("name: on_tick\npack: st\nenabled: true\n" +
			"trigger: {type: core.intervaltimer, parameters: {interval: 10, unit: seconds}}\n" +
			"action: {ref: st.galaxy.install, parameters: {roles: [a]}}\n")},
	}
	p, err := Load(fsys, "st", testNow)
	require.NoError(t, err)
	var refs []string
	for _, a := range p.Actions {
		refs = append(refs, a.Ref)
	}
	require.ElementsMatch(t, []string{"st.galaxy.install", "st.vault.decrypt"}, refs)
	require.Equal(t, "st.galaxy.install", p.Rules[0].ActionRef)

	// A rule naming a dotted action the pack does not have is still an error, with the full ref.
	fsys["st/rules/on_tick.yaml"] = &fstest.MapFile{Data: []byte("name: on_tick\ntrigger: {type: core.intervaltimer, parameters: {interval: 10}}\n" +
		"action: {ref: st.galaxy.remove}\n")}
	require.Equal(t, []string{`st/rules/on_tick.yaml:3:10: action "st.galaxy.remove" is not defined in this pack: no actions/*.yaml has ref: galaxy.remove`},
		problemLines(t, fsys, "st"))

	// Malformed dotted names are refused.
	fsys["st/rules/on_tick.yaml"] = &fstest.MapFile{Data: []byte("name: on_tick\ntrigger: {type: core.intervaltimer, parameters: {interval: 10}}\naction: {ref: st.galaxy.install}\n")}
	fsys["st/actions/vault.decrypt.yaml"] = &fstest.MapFile{Data: []byte("name: vault..decrypt\nrunner_type: noop\n")}
	require.Equal(t, []string{`st/actions/vault.decrypt.yaml:1:1: action name "vault..decrypt" must be letters, digits, _ and -, starting with a letter or _, in words joined by dots`},
		problemLines(t, fsys, "st"))
}

// StackStorm's runners load by their names; the ones attune cannot run yet are refused at
// runner_type, saying why; pack validate warns, at the parameter, where attune differs.
func TestStackStormRunners(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"st/pack.yaml": {Data: []byte("ref: st\nversion: 0.1.0\n")},
		"st/actions/ping.yaml": {Data: []byte("name: ping\nrunner_type: local-shell-cmd\nentry_point: \"\"\nparameters:\n" +
			"  cmd: {default: \"ping -c {{ count }} {{ host }}\", immutable: true}\n  count: {type: integer, default: 1}\n  host: {type: string}\n" +
			"  sudo: {immutable: true, default: false}\n")},
		"st/actions/script.yaml": {Data: []byte("name: script\nrunner_type: local-shell-script\nentry_point: s.sh\nparameters:\n" +
			"  pw: {type: string, secret: true}\n  kwarg_op: {default: '-', immutable: true}\n")},
		"st/actions/s.sh":       {Data: []byte("#!/bin/sh\n")},
		"st/actions/jenkins.py": {Data: []byte("from st2common.runners.base_action import Action\n")},
		"st/actions/build.yaml": {Data: []byte("name: build\nrunner_type: python-script\nentry_point: jenkins.py\n")},
	}
	p, warns, err := load(fsys, "st", testNow, func(rel string) string { return "st/" + rel }, builtinPacks())
	require.NoError(t, err)
	runtimes := map[string]string{}
	for _, a := range p.Actions {
		runtimes[a.Ref] = a.Runtime
	}
	require.Equal(t, map[string]string{"st.ping": "local-shell-cmd", "st.script": "local-shell-script", "st.build": "python-script"}, runtimes)
	var lines []string
	for _, w := range warns {
		lines = append(lines, w.Error())
	}
	require.Equal(t, []string{
		"st/actions/ping.yaml:5:3: differs from StackStorm: each {{ parameter }} in cmd is filled with the value shell-quoted, so a value is always one word and never runs as shell; the command goes to /bin/sh on stdin, not in argv",
		"st/actions/script.yaml:5:3: differs from StackStorm: secret parameter \"pw\" is not passed as an argument; the script reads it from stdin, where attune writes the secret parameters as one json document",
	}, lines)

	fsys["st/actions/remote.yaml"] = &fstest.MapFile{Data: []byte("name: remote\nrunner_type: remote-shell-cmd\n")}
	fsys["st/actions/wf.yaml"] = &fstest.MapFile{Data: []byte("name: wf\nrunner_type: action-chain\nentry_point: wf.yaml\n")}
	fsys["st/actions/ping.yaml"] = &fstest.MapFile{Data: []byte("name: ping\nrunner_type: local-shell-cmd\nparameters:\n" +
		"  cmd: {default: \"ping {{ host | upper }} {{ config_context.x }}\"}\n  host: {type: string}\n  sudo: {default: true}\n")}
	require.Equal(t, []string{
		`st/actions/ping.yaml:4:3: cmd: template "{{ config_context.x }}" reads config_context, which cmd does not see: declare a parameter with default "{{ config_context.x }}" and use that`,
		`st/actions/ping.yaml:6:3: sudo is not supported: attune never runs actions through sudo; run the worker as the user the action needs`,
		`st/actions/remote.yaml:2:1: runner_type remote-shell-cmd is not supported yet: it runs commands over SSH, and attune has no remote runner yet; run a worker on that host and use local-shell-cmd`,
		`st/actions/wf.yaml:2:1: runner_type action-chain is not supported yet: attune runs Orquesta workflows, not action chains; rewrite the chain as an orquesta workflow (see docs/workflows.md)`,
	}, problemLines(t, fsys, "st"))
}

// StackStorm's timer triggers are aliases of attune's: a rule on one is stored on attune's
// timer with its parameters translated; core.local takes a command, but never one a rule
// renders event data into.
func TestStackStormTimerRules(t *testing.T) {
	t.Parallel()
	rule := func(trigger, params string) fstest.MapFS {
		return fstest.MapFS{
			"st/pack.yaml": {Data: []byte("ref: st\nversion: 0.1.0\n")},
			"st/rules/r.yaml": {Data: []byte("name: r\npack: st\nenabled: true\ntrigger:\n  type: " + trigger + "\n  parameters: " + params + "\n" +
				"criteria:\n  trigger.executed_at: {type: exists, pattern: x}\naction:\n  ref: core.local\n  parameters: {cmd: \"echo hi\"}\n")},
		}
	}
	cases := []struct {
		trigger, params, ref string
		want                 map[string]any
	}{
		{"core.st2.IntervalTimer", "{delta: 10, unit: seconds}", "core.intervaltimer", map[string]any{"interval": 10.0, "unit": "seconds"}},
		{"core.st2.IntervalTimer", "{delta: 2, unit: weeks}", "core.intervaltimer", map[string]any{"interval": 14.0, "unit": "days"}},
		{"core.st2.CronTimer", "{hour: 3, minute: 30}", "core.crontimer", map[string]any{"expression": "0 30 3 * * *", "timezone": "UTC"}},
		{"core.st2.CronTimer", "{day_of_week: 0, hour: 0, timezone: Europe/Paris}", "core.crontimer", map[string]any{"expression": "0 0 0 * * 1", "timezone": "Europe/Paris"}},
		{"core.st2.CronTimer", "{minute: \"*/5\", day_of_week: mon-fri}", "core.crontimer", map[string]any{"expression": "0 */5 * * * mon-fri", "timezone": "UTC"}},
		{"core.st2.DateTimer", "{date: \"2029-12-31 23:59:59\", timezone: Europe/Paris}", "core.datetimetimer", map[string]any{"fire_at": "2029-12-31T23:59:59+01:00"}},
	}
	for _, c := range cases {
		p, err := Load(rule(c.trigger, c.params), "st", testNow)
		require.NoError(t, err, c.trigger+" "+c.params)
		require.Equal(t, c.ref, p.Rules[0].TriggerRef)
		require.Equal(t, c.want, p.Rules[0].TriggerParams, c.params)
		require.Equal(t, "core.local", p.Rules[0].ActionRef)
	}

	require.Equal(t, []string{`st/rules/r.yaml:6:3: core.st2.IntervalTimer: unit must be one of weeks, days, hours, minutes, seconds, found fortnights`},
		problemLines(t, rule("core.st2.IntervalTimer", "{delta: 1, unit: fortnights}"), "st"))
	require.Equal(t, []string{`st/rules/r.yaml:6:3: core.st2.CronTimer: year is not supported yet: attune's cron has no year field; leave it out`},
		problemLines(t, rule("core.st2.CronTimer", "{year: 2030, hour: 1}"), "st"))
	hook, err := Load(rule("core.st2.webhook", "{url: hook}"), "st", testNow)
	require.NoError(t, err, "core.st2.webhook is an alias of core.webhook")
	require.Equal(t, "core.webhook", hook.Rules[0].TriggerRef)
	require.Equal(t, map[string]any{"url": "hook"}, hook.Rules[0].TriggerParams)
	require.Equal(t, []string{`st/rules/r.yaml:6:3: core.st2.webhook: unknown parameter "path"; its parameters: url`},
		problemLines(t, rule("core.st2.webhook", "{url: hook, path: x}"), "st"))
	done, err := Load(rule("core.st2.generic.actiontrigger", "{}"), "st", testNow)
	require.NoError(t, err, "core.st2.generic.actiontrigger is an alias of core.actiontrigger")
	require.Equal(t, "core.actiontrigger", done.Rules[0].TriggerRef)
	require.Equal(t, []string{`st/rules/r.yaml:6:3: core.st2.generic.actiontrigger: takes no parameters: match the action and the status in criteria (trigger.action_name, trigger.status)`},
		problemLines(t, rule("core.st2.generic.actiontrigger", "{status: failed}"), "st"))

	sudo := rule("core.st2.IntervalTimer", "{delta: 10, unit: seconds}")
	sudo["st/rules/r.yaml"].Data = []byte(strings.Replace(string(sudo["st/rules/r.yaml"].Data), `ref: core.local`, `ref: core.local_sudo`, 1))
	require.Equal(t, []string{`st/rules/r.yaml:10:3: action core.local_sudo is not supported: attune never runs actions through sudo; run a worker as the user the command needs and use core.local`},
		problemLines(t, sudo, "st"))

	fsys := rule("core.st2.IntervalTimer", "{delta: 10, unit: seconds}")
	fsys["st/rules/r.yaml"].Data = []byte(strings.Replace(string(fsys["st/rules/r.yaml"].Data), `echo hi`, `echo {{ event.payload.fired_at }}`, 1))
	require.Equal(t, []string{`st/rules/r.yaml:11:3: cmd of core.local holds a template: event data rendered into a shell command would run as shell; ` +
		`declare an action of your own with runner_type: local-shell-cmd, cmd: "… {{ value }}" and a value parameter, and pass the data as that parameter (it is filled in shell-quoted)`},
		problemLines(t, fsys, "st"))
}

// pack.yaml's dependencies are read as pack refs, from StackStorm's forms; one the loader does
// not know is a warning (registration checks it), a malformed one an error.
func TestStackStormDependencies(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"st/pack.yaml": {Data: []byte("name: st\nversion: 0.1.0\ndependencies:\n  - core\n  - ansible=1.2.0\n" +
		"  - https://github.com/StackStorm-Exchange/stackstorm-jenkins.git=0.6.0\n")}}
	p, warns, err := load(fsys, "st", testNow, func(rel string) string { return "st/" + rel }, builtinPacks())
	require.NoError(t, err)
	require.Equal(t, []string{"core", "ansible", "jenkins"}, p.Dependencies)
	require.Len(t, warns, 2)
	require.Equal(t, "st/pack.yaml:3:1: not checked: pack ansible (a dependency) is not loaded; register it before this pack", warns[0].Error())

	fsys["st/pack.yaml"].Data = []byte("name: st\nversion: 0.1.0\ndependencies: [\"Not A Pack\"]\n")
	require.Equal(t, []string{`st/pack.yaml:3:1: dependencies[0] "Not A Pack" must be a pack ref, ref=version or a git URL of a pack`},
		problemLines(t, fsys, "st"))
}

// Packs are registered after the packs they depend on.
func TestInDependencyOrder(t *testing.T) {
	t.Parallel()
	a := &attune.Pack{Ref: "a", Dependencies: []string{"c", "elsewhere"}}
	b := &attune.Pack{Ref: "b"}
	c := &attune.Pack{Ref: "c", Dependencies: []string{"b"}}
	loop1 := &attune.Pack{Ref: "x", Dependencies: []string{"y"}}
	loop2 := &attune.Pack{Ref: "y", Dependencies: []string{"x"}}
	require.Equal(t, []*attune.Pack{b, c, a, loop2, loop1}, InDependencyOrder([]*attune.Pack{a, b, c, loop1, loop2}))
}
