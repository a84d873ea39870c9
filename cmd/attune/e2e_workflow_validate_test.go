package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// attune pack validate reads an orquesta action's workflow and reports what is wrong with it at
// the workflow file's line and column, exiting 2; a sound workflow validates.
func TestPackValidateWorkflow(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, filepath.Join(dir, "wf"), map[string]string{
		"pack.yaml":           "ref: wf\nversion: 0.1.0\n",
		"actions/deploy.yaml": "ref: deploy\nrunner_type: orquesta\nentry_point: workflows/deploy.yaml\nparameters:\n  host: {type: string, required: true}\n",
		"actions/workflows/deploy.yaml": `version: 1.0
input: [host]
tasks:
  check:
    action: core.local cmd="ping -c1 <% ctx(host) %>"
    next:
      - when: <% succeeded() %>
        publish: up=<% result().stdout %>
        do: ship, notify
  ship:
    action: core.echo message=<% ctx().hosts.where($.up) %>
  notify:
    action: core.ecko message=done
    joins: all
`,
	})
	env := append(os.Environ(), "ATTUNE_CONFIG=", "ATTUNE_DATABASE_URL=postgres://nobody@127.0.0.1:1/none")

	out, errOut, code := attuneIn(t, dir, env, "pack", "validate", "wf")
	require.Equal(t, 2, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	require.Equal(t, []string{
		`wf/actions/workflows/deploy.yaml:11:46: <% ctx().hosts.where($.up) %>: method .where() is not part of the YAQL that attune supports in <% %>; only .select($.x) is`,
		`wf/actions/workflows/deploy.yaml:14:5: unknown key "joins" in task notify; did you mean "join"?`,
	}, strings.Split(strings.TrimSuffix(out, "\n"), "\n"))
	require.Equal(t, "attune: pack wf is not valid: 2 errors\n", errOut)

	writeFiles(t, filepath.Join(dir, "wf"), map[string]string{
		"actions/workflows/deploy.yaml": `version: "1.0"
input: [host]
tasks:
  check:
    action: core.local cmd="ping -c1 <% ctx(host) %>"
    next:
      - when: <% succeeded() %>
        do: [ship, notify]
  ship:
    action: core.echo message=<% ctx().hosts.select($.up) %>
  notify:
    action: core.ecko message=done
  lost:
    next: [{do: lost}]
`,
	})
	out, errOut, code = attuneIn(t, dir, env, "pack", "validate", "wf")
	require.Equal(t, 2, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	require.Equal(t, []string{
		`wf/actions/workflows/deploy.yaml:12:13: task notify: action core.ecko does not exist: its pack defines no action of that name`,
		`wf/actions/workflows/deploy.yaml:13:3: task lost cannot be reached: only tasks that no start task leads to transition to it`,
	}, strings.Split(strings.TrimSuffix(out, "\n"), "\n"))

	writeFiles(t, filepath.Join(dir, "wf"), map[string]string{
		"actions/workflows/deploy.yaml": `version: 1.0
input: [host]
tasks:
  check:
    action: core.local cmd="ping -c1 <% ctx(host) %>"
    next:
      - do: notify
  notify:
    action: core.echo message=done
`,
	})
	out, errOut, code = attuneIn(t, dir, env, "pack", "validate", "wf")
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
}
