package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/workflows"
)

// wfEnv starts an attune with pack wf holding one orquesta action per definition (wf.NAME).
func wfEnv(t *testing.T, defs map[string]string, opts ...attunetest.Options) *attunetest.Env {
	t.Helper()
	e := attunetest.New(t, opts...)
	registerWorkflows(t, e, defs)
	return e
}

func registerWorkflows(t *testing.T, e *attunetest.Env, defs map[string]string) {
	t.Helper()
	pack := &attune.Pack{Ref: "wf", Version: "1.0.0"}
	for name, src := range defs {
		w, err := workflows.Parse(name+".yaml", []byte(src))
		require.NoError(t, err)
		params := attune.ParamSchema{}
		for _, in := range w.Input {
			params[in.Name] = attune.ParamSpec{}
		}
		pack.Actions = append(pack.Actions, attune.Action{
			Ref: "wf." + name, PackRef: "wf", Runtime: "orquesta",
			EntryPoint: "workflows/" + name + ".yaml", EntryContent: []byte(src),
			Parameters: params,
		})
	}
	_, err := e.Timers.RegisterPack(context.Background(), pack)
	require.NoError(t, err)
}

// runWorkflow runs wf.NAME with params and waits for it to end.
func runWorkflow(t *testing.T, e *attunetest.Env, name string, params map[string]any) (attune.Execution, map[string]any) {
	t.Helper()
	x, err := e.P.Run(context.Background(), "wf."+name, params, 0)
	require.NoError(t, err)
	x = e.WaitTerminal(t, x.ID, 30*time.Second)
	var res map[string]any
	if len(x.Result) > 0 {
		require.NoError(t, json.Unmarshal(x.Result, &res))
	}
	return x, res
}

// tasks lists a workflow's task instances.
func tasks(t *testing.T, e *attunetest.Env, id int64) []db.WorkflowTask {
	t.Helper()
	ts, err := e.DB.Read().WorkflowTasks(context.Background(), id)
	require.NoError(t, err)
	return ts
}

// taskStates maps "task/route" to its state.
func taskStates(t *testing.T, e *attunetest.Env, id int64) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tk := range tasks(t, e, id) {
		out[fmt.Sprintf("%s/%d", tk.Task, tk.Route)] = tk.State
	}
	return out
}

func children(t *testing.T, e *attunetest.Env, id int64) []attune.Execution {
	t.Helper()
	kids, err := e.DB.Read().WorkflowChildren(context.Background(), id)
	require.NoError(t, err)
	return kids
}

// A sequential workflow of core.local and core.noop: each task starts when the one before it
// ended, publish carries stdout (final newline stripped) forward, output is rendered.
func TestWorkflowSequential(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"seq": `
version: 1.0
input:
  - name
  - greeting: hello <% ctx().name %>
vars:
  - n: 1
output:
  - said: <% ctx().said %>
  - n: <% ctx().n %>
tasks:
  one:
    action: core.local cmd="echo <% ctx().greeting %>"
    next:
      - when: <% succeeded() %>
        publish: said=<% result().stdout %>
        do: two
  two:
    action: core.noop
    next:
      - publish:
          - n: <% ctx().n + 1 %>
        do: three
  three:
    action: core.local
    input:
      cmd: test "<% ctx().said %>" = "hello world"
`})
	x, res := runWorkflow(t, e, "seq", map[string]any{"name": "world"})
	require.Equal(t, attune.StatusCompleted, x.Status, "%s %s", x.Error, x.Result)
	require.Equal(t, map[string]any{"said": "hello world", "n": float64(2)}, res["output"])
	kids := children(t, e, x.ID)
	require.Len(t, kids, 3)
	for i, name := range []string{"one", "two", "three"} {
		require.Equal(t, name, kids[i].Parent.Task)
		require.Equal(t, attune.StatusCompleted, kids[i].Status)
	}
	require.Equal(t, map[string]string{"one/0": "succeeded", "two/0": "succeeded", "three/0": "succeeded"}, taskStates(t, e, x.ID))
}
