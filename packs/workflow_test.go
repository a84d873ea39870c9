package packs

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// deployWorkflow calls an action of its own pack (defined in a later file), one of core, and
// one of a pack that is not loaded.
const deployWorkflow = `version: 1.0
input:
  - host
  - port: 22
tasks:
  check:
    action: core.echo message="checking <% ctx(host) %>"
    next:
      - when: <% succeeded() %>
        do: ship
  ship:
    action: p.ship host=<% ctx(host) %>
    next:
      - do: notify
  notify:
    action: chat.post text="shipped"
`

// An orquesta action (or workflow, its alias) loads with its workflow stored as its entry
// content; its refs are checked against its own pack and core, and a ref into a pack that is
// not loaded is a warning, as a rule's is.
func TestLoadWorkflowAction(t *testing.T) {
	t.Parallel()
	fsys := packFS(map[string]string{
		"actions/deploy.yaml":           "name: deploy\nrunner_type: orquesta\nentry_point: workflows/deploy.yaml\nparameters:\n  host: {type: string, required: true}\n",
		"actions/workflows/deploy.yaml": deployWorkflow,
		"actions/zz_ship.yaml":          "name: ship\nrunner_type: noop\nparameters:\n  host: {type: string}\n",
		"actions/again.yaml":            "name: again\nrunner_type: workflow\nentry_point: workflows/deploy.yaml\nparameters:\n  host: {type: string}\n",
	})
	p, warns, err := load(fsys, ".", testNow, func(rel string) string { return rel }, builtinPacks())
	require.NoError(t, err)
	byRef := map[string]attune.Action{}
	for _, a := range p.Actions {
		byRef[a.Ref] = a
	}
	deploy := byRef["p.deploy"]
	require.Equal(t, attune.RuntimeOrquesta, deploy.Runtime)
	require.Equal(t, "workflows/deploy.yaml", deploy.EntryPoint)
	require.Equal(t, deployWorkflow, string(deploy.EntryContent))
	require.Equal(t, attune.RuntimeOrquesta, byRef["p.again"].Runtime)
	var lines []string
	for _, w := range warns {
		lines = append(lines, w.Error())
	}
	require.Equal(t, []string{
		"actions/workflows/deploy.yaml:16:13: not checked: pack chat is not loaded; action chat.post must be registered before this pack",
		"actions/workflows/deploy.yaml:16:13: not checked: pack chat is not loaded; action chat.post must be registered before this pack",
	}, lines, "once for each action whose entry point it is")
}

// `attune pack validate` reports a workflow's problems at the workflow file's lines, together
// with the pack's other problems.
func TestValidateWorkflowProblems(t *testing.T) {
	t.Parallel()
	broken := `version: 1.0
input: [host, user]
tasks:
  check:
    action: core.nope
    retries: 3
    next:
      - when: <% ctx().x.where($ > 1) %>
        do: ship, missing
  ship:
    action: p.gone
  orphan:
    next: [{do: orphan2}]
  orphan2:
    next: [{do: orphan}]
`
	got := problemLines(t, packFS(map[string]string{
		"actions/deploy.yaml":           "name: deploy\nrunner_type: orquesta\nentry_point: workflows/deploy.yaml\nparameters:\n  host: {type: string}\n",
		"actions/workflows/deploy.yaml": broken,
	}), ".")
	require.Equal(t, []string{
		`actions/workflows/deploy.yaml:6:5: unknown key "retries" in task check; known keys: action, input, delay, join, with, retry, next`,
		`actions/workflows/deploy.yaml:8:26: <% ctx().x.where($ > 1) %>: method .where() is not part of the YAQL that attune supports in <% %>; only .select($.x) is`,
	}, got, "Parse problems stop the file before Check")

	fixed := broken[:len(broken)-len(broken[findLine(broken, 6):])] + "    next:\n      - when: <% ctx().x %>\n        do: ship, missing\n" + broken[findLine(broken, 10):]
	got = problemLines(t, packFS(map[string]string{
		"actions/deploy.yaml":           "name: deploy\nrunner_type: orquesta\nentry_point: workflows/deploy.yaml\nparameters:\n  host: {type: string}\n",
		"actions/workflows/deploy.yaml": fixed,
	}), ".")
	require.Equal(t, []string{
		`actions/deploy.yaml:4:1: workflow input "user" has no default and the action declares no parameter "user" to give it; add it to parameters`,
		`actions/workflows/deploy.yaml:5:13: task check: action core.nope does not exist: its pack defines no action of that name`,
		`actions/workflows/deploy.yaml:8:19: task check: do names task "missing", which does not exist; tasks: [check ship orphan orphan2]`,
		`actions/workflows/deploy.yaml:10:13: task ship: action p.gone does not exist: its pack defines no action of that name`,
		`actions/workflows/deploy.yaml:11:3: task orphan cannot be reached: only tasks that no start task leads to transition to it`,
		`actions/workflows/deploy.yaml:13:3: task orphan2 cannot be reached: only tasks that no start task leads to transition to it`,
	}, got)
}

// findLine returns the offset of the start of 1-based line n of s.
func findLine(s string, n int) int {
	off := 0
	for range n - 1 {
		for s[off] != '\n' {
			off++
		}
		off++
	}
	return off
}

// A workflow file has the YAML limits of every pack file.
func TestValidateWorkflowAliasBomb(t *testing.T) {
	t.Parallel()
	got := problemLines(t, packFS(map[string]string{
		"actions/wf.yaml":           "name: wf\nrunner_type: orquesta\nentry_point: workflows/wf.yaml\n",
		"actions/workflows/wf.yaml": billionLaughs,
	}), ".")
	require.Equal(t, []string{
		"actions/workflows/wf.yaml:6:8: alias *d expands the file too far; aliases may add at most 10000 values and 1 MiB of text to a pack file",
	}, got)
}

// A task's input is checked against the parameters of the action it runs, at the input: unknown
// parameters, required ones not given, and literal values; an expression is checked only for
// being declared.
func TestValidateWorkflowTaskParams(t *testing.T) {
	t.Parallel()
	got := problemLines(t, packFS(map[string]string{
		"actions/ship.yaml": "name: ship\nrunner_type: noop\nparameters:\n  host: {type: string, required: true}\n  count: {type: integer, maximum: 5}\n",
		"actions/wf.yaml":   "name: wf\nrunner_type: orquesta\nentry_point: workflows/wf.yaml\n",
		"actions/workflows/wf.yaml": `version: 1.0
tasks:
  one:
    action: p.ship host=a count=9
    next: [{do: two}]
  two:
    action: p.ship colour=<% ctx().c %>
    input:
      count: many
    next: [{do: three}]
  three:
    action: p.ship host=<% ctx().h %> count=<% ctx().n %>
    next: [{do: four}]
  four:
    action: core.echo message=hi volume=11
`,
	}), ".")
	require.Equal(t, []string{
		"actions/workflows/wf.yaml:4:27: task one: input count: must be <= 5, got 9 (action p.ship)",
		"actions/workflows/wf.yaml:7:13: task two: input host: required (action p.ship)",
		"actions/workflows/wf.yaml:7:20: task two: input colour: unknown parameter (known: count, host) (action p.ship)",
		"actions/workflows/wf.yaml:9:7: task two: input count: must be an integer, got \"many\" (action p.ship)",
		"actions/workflows/wf.yaml:15:34: task four: input volume: unknown parameter (known: message) (action core.echo)",
	}, got)
}
