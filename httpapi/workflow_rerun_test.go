package httpapi_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// POST /api/v1/executions/{id}/re_run with tasks re-runs a failed workflow from those tasks
// (StackStorm's re-run from a task); a task that never ran is a 422 naming field tasks.
func TestRerunWorkflowFromTasks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.registerPack(map[string]string{
		"pack.yaml":       "ref: rr\nversion: 1.0.0\n",
		"actions/wf.yaml": "ref: wf\nrunner_type: orquesta\nentry_point: workflows/wf.yaml\nparameters:\n  dir: {type: string, required: true}\n",
		"actions/workflows/wf.yaml": `version: 1.0
input: [dir]
output:
  - b: <% ctx().b %>
tasks:
  one:
    action: core.local cmd="echo A"
    next:
      - when: <% succeeded() %>
        publish: a=<% result().stdout %>
        do: two
  two:
    action: core.local cmd="test -e ready && echo <% ctx().a %>-fixed" cwd=<% ctx().dir %>
    next:
      - when: <% succeeded() %>
        publish: b=<% result().stdout %>
`,
	})
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o777))
	r := b.do("POST", "/api/v1/executions", []byte(`{"action": "rr.wf", "parameters": {"dir": "`+dir+`"}}`))
	require.Equal(t, 201, r.code, r.raw)
	id := int64(r.body["id"].(float64))
	require.Equal(t, "failed", string(b.env.WaitTerminal(t, id, 30*time.Second).Status))

	r = b.do("POST", fmt.Sprintf("/api/v1/executions/%d/re_run", id), []byte(`{"tasks": ["nope"]}`))
	require.Equal(t, 422, r.code, r.raw)
	require.Equal(t, []string{"tasks"}, fieldsOf(r))
	require.Contains(t, r.raw, "task nope never ran in workflow")
	r = b.do("POST", fmt.Sprintf("/api/v1/executions/%d/re_run", id), []byte(`{"tasks": []}`))
	require.Equal(t, 422, r.code, r.raw)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "ready"), nil, 0o644))
	r = b.do("POST", fmt.Sprintf("/api/v1/executions/%d/re_run", id), []byte(`{"tasks": ["two"]}`))
	require.Equal(t, 201, r.code, r.raw)
	require.Equal(t, float64(id), r.body["rerun_of"])
	x := b.env.WaitTerminal(t, int64(r.body["id"].(float64)), 30*time.Second)
	require.Equal(t, "completed", string(x.Status), x.Error)
	require.JSONEq(t, `{"output": {"b": "A-fixed"}}`, string(x.Result))
}
