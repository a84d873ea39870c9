package packs

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
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
	fsys["st/actions/wf.yaml"] = &fstest.MapFile{Data: []byte("name: wf\nrunner_type: orquesta\nentry_point: wf.yaml\n")}
	fsys["st/actions/ping.yaml"] = &fstest.MapFile{Data: []byte("name: ping\nrunner_type: local-shell-cmd\nparameters:\n" +
		"  cmd: {default: \"ping {{ host | upper }}\"}\n  host: {type: string}\n  sudo: {default: true}\n")}
	require.Equal(t, []string{
		`st/actions/ping.yaml:4:3: cmd: template "{{ host | upper }}" is not supported yet: attune fills only {{ parameter }} in cmd (no filters, config_context or st2kv)`,
		`st/actions/ping.yaml:6:3: sudo is not supported: attune never runs actions through sudo; run the worker as the user the action needs`,
		`st/actions/remote.yaml:2:1: runner_type remote-shell-cmd is not supported yet: it runs commands over SSH, and attune has no remote runner yet; run a worker on that host and use local-shell-cmd`,
		`st/actions/wf.yaml:2:1: runner_type orquesta is not supported yet: workflows have not landed in attune yet`,
	}, problemLines(t, fsys, "st"))
}
