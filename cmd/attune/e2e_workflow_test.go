package main_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// From the real binary: a pack's workflows register, a sequential workflow of core.local and
// core.noop runs to its output, a with-items with a failing item fails naming it, and
// `attune execution get` shows a workflow's tasks as a tree (status, attempts, items, duration).
func TestWorkflowsEndToEnd(t *testing.T) {
	in := newInstance(t)
	pack := filepath.Join(in.dir, "wfpack")
	writeFiles(t, pack, map[string]string{
		"pack.yaml":        "ref: wfe\nversion: 1.0.0\n",
		"actions/seq.yaml": "ref: seq\nrunner_type: orquesta\nentry_point: workflows/seq.yaml\nparameters:\n  name: {type: string, required: true}\n",
		"actions/workflows/seq.yaml": `version: 1.0
input: [name]
output:
  - greeting: <% ctx().greeting %>
tasks:
  hello:
    action: core.local cmd="echo hello <% ctx().name %>"
    next:
      - when: <% succeeded() %>
        publish: greeting=<% result().stdout %>
        do: done
  done:
    action: core.noop
`,
		"actions/items.yaml": "ref: items\nrunner_type: workflow\nentry_point: workflows/items.yaml\n",
		"actions/workflows/items.yaml": `version: 1.0
tasks:
  each:
    with:
      items: <% [0, 1, 2, 3] %>
      concurrency: 1
    action: core.local
    input:
      cmd: test <% item() %> -ne 1
    retry:
      count: 1
`,
	})
	out, errOut, code := in.attune("pack", "register", pack)
	require.Equal(t, 0, code, "pack register: %s %s", out, errOut)

	out, errOut, code = in.attune("run", "wfe.seq", "name=world", "--json")
	require.Equal(t, 0, code, "%s %s", out, errOut)
	var x struct {
		ID     int64          `json:"id"`
		Status string         `json:"status"`
		Result map[string]any `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &x))
	require.Equal(t, "completed", x.Status)
	require.Equal(t, map[string]any{"greeting": "hello world"}, x.Result["output"])

	out, errOut, code = in.attune("execution", "get", fmt.Sprint(x.ID))
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "tasks:")
	lines := strings.Split(out, "\n")
	require.Regexp(t, `^\s+hello\s+succeeded\s+1\s+-\s+\d`, lineWith(lines, "  hello "))
	require.Regexp(t, `^\s+done\s+succeeded\s+1\s+-\s+\d`, lineWith(lines, "  done "))

	out, errOut, code = in.attune("run", "wfe.items", "--json")
	require.Equal(t, 1, code, "%s %s", out, errOut)
	require.NoError(t, json.Unmarshal([]byte(out), &x))
	require.Equal(t, "failed", x.Status)
	errs := x.Result["errors"].([]any)
	require.Equal(t, "each", errs[0].(map[string]any)["task_id"])
	out, _, code = in.attune("execution", "get", fmt.Sprint(x.ID))
	require.Equal(t, 0, code)
	require.Regexp(t, `^\s+each\s+failed\s+2\s+2/4 done, failed: 1\s`, lineWith(strings.Split(out, "\n"), "  each "),
		"the retry ran items 0 and 1 again; item 1 failed, 2 and 3 never started")

	_, errOut, code = in.attune("execution", "pause", fmt.Sprint(x.ID))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "already completed (failed); there is nothing to pause")
}

func lineWith(lines []string, s string) string {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
