package jobs_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/attunetest"
)

// A failed workflow re-run from its failed task: the new execution (rerun_of the old one)
// starts there, with the context the task had (what the tasks before it published), does not
// run those tasks again, and goes on to the end; its output sees what the old run published.
func TestWorkflowRerunFromTasks(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"fix": `
version: 1.0
input: [dir]
output:
  - a: <% ctx().a %>
  - b: <% ctx().b %>
tasks:
  one:
    action: core.local cmd="echo x >> one-ran; echo A" cwd=<% ctx().dir %>
    next:
      - when: <% succeeded() %>
        publish: a=<% result().stdout %>
        do: two
  two:
    action: core.local cmd="test -e ready && echo <% ctx().a %>-fixed" cwd=<% ctx().dir %>
    next:
      - when: <% succeeded() %>
        publish: b=<% result().stdout %>
        do: three
  three:
    action: core.noop
`})
	ctx := context.Background()
	dir := t.TempDir()
	old, res := runWorkflow(t, e, "fix", map[string]any{"dir": dir})
	require.Equal(t, attune.StatusFailed, old.Status)
	require.Equal(t, "two", res["errors"].([]any)[0].(map[string]any)["task_id"])

	// Bad requests name what is wrong, and write nothing.
	_, err := e.P.RerunTasks(ctx, old.ID, []string{"three"}, nil)
	require.ErrorIs(t, err, attune.ErrInvalid)
	require.EqualError(t, err, "task three never ran in workflow "+itoa(old.ID)+", so it has no context to re-run from (the tasks that ran: one, two): invalid")
	_, err = e.P.RerunTasks(ctx, old.ID, nil, nil)
	require.ErrorIs(t, err, attune.ErrInvalid)
	kid := children(t, e, old.ID)[0].ID
	_, err = e.P.RerunTasks(ctx, kid, []string{"two"}, nil)
	require.ErrorIs(t, err, attune.ErrInvalid)
	require.ErrorContains(t, err, "which is not a workflow")
	require.Len(t, executionsOf(t, e, "wf.fix"), 1)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "ready"), nil, 0o644))
	x, err := e.P.RerunTasks(ctx, old.ID, []string{"two"}, nil)
	require.NoError(t, err)
	require.Equal(t, old.ID, *x.RerunOf)
	x = e.WaitTerminal(t, x.ID, 30*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.JSONEq(t, `{"output": {"a": "A", "b": "A-fixed"}}`, string(x.Result))
	require.Equal(t, map[string]string{"two/0": "succeeded", "three/0": "succeeded"}, taskStates(t, e, x.ID))
	ran, err := os.ReadFile(filepath.Join(dir, "one-ran"))
	require.NoError(t, err)
	require.Equal(t, "x\n", string(ran), "one did not run again")

	// A completed workflow re-runs from tasks too; a task given that ran before it runs again.
	x2, err := e.P.Run(ctx, "wf.fix", map[string]any{"dir": dir}, 0)
	require.NoError(t, err)
	x2 = e.WaitTerminal(t, x2.ID, 30*time.Second)
	require.Equal(t, attune.StatusCompleted, x2.Status)
	x3, err := e.P.RerunTasks(ctx, x2.ID, []string{"one", "two"}, map[string]any{"dir": dir})
	require.NoError(t, err, "a completed workflow re-runs from tasks too")
	x3 = e.WaitTerminal(t, x3.ID, 30*time.Second)
	require.Equal(t, attune.StatusCompleted, x3.Status)
	require.Equal(t, map[string]string{"one/0": "succeeded", "two/0": "succeeded", "two/1": "succeeded", "three/0": "succeeded",
		"three/1": "succeeded"}, taskStates(t, e, x3.ID), "two ran once from the rerun, once after one")
}

// A workflow that has not ended cannot be re-run from tasks: 409-like ErrConflict, saying how
// to end it.
func TestWorkflowRerunFromTasksRunning(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"asking": `
version: 1.0
tasks:
  approve:
    action: core.ask
`})
	ctx := context.Background()
	x, err := e.P.Run(ctx, "wf.asking", nil, 0)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		cur, err := e.DB.AutoCommit().Execution(ctx, x.ID)
		return err == nil && cur.Status == attune.StatusPaused
	}, 30*time.Second, 50*time.Millisecond)
	_, err = e.P.RerunTasks(ctx, x.ID, []string{"approve"}, nil)
	require.ErrorIs(t, err, attune.ErrConflict)
	require.ErrorContains(t, err, "workflow "+itoa(x.ID)+" is paused: it can be re-run from tasks once it has ended (attune execution cancel "+itoa(x.ID)+")")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func executionsOf(t *testing.T, e *attunetest.Env, ref string) []attune.Execution {
	t.Helper()
	xs, err := e.DB.AutoCommit().Executions(context.Background(), db.ExecutionFilter{ActionRef: ref, Limit: 100})
	require.NoError(t, err)
	var top []attune.Execution
	for _, x := range xs {
		if x.Parent == nil {
			top = append(top, x)
		}
	}
	return top
}
