package jobs_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/packs"
	"github.com/attune-run/attune/workflows"
)

// wfEnv starts an attune with pack wf holding one orquesta action per definition (wf.NAME).
func wfEnv(t *testing.T, defs map[string]string, opts ...attunetest.Options) *attunetest.Env {
	t.Helper()
	e := attunetest.New(t, opts...)
	registerWorkflows(t, e, defs)
	return e
}

// registerWorkflows loads and registers pack wf, with one orquesta action per definition
// (actions/NAME.yaml, its workflow in actions/workflows/NAME.yaml, its parameters the inputs:
// xs an array, n an integer, others strings),
// as attune pack register does.
func registerWorkflows(t *testing.T, e *attunetest.Env, defs map[string]string) {
	t.Helper()
	files := map[string]string{"pack.yaml": "ref: wf\nversion: 1.0.0\n"}
	for name, src := range defs {
		w, err := workflows.Parse(name+".yaml", []byte(src))
		require.NoError(t, err)
		meta := "ref: " + name + "\nrunner_type: orquesta\nentry_point: workflows/" + name + ".yaml\n"
		if len(w.Input) > 0 {
			meta += "parameters:\n"
			for _, in := range w.Input {
				typ := map[string]string{"xs": "array", "n": "integer"}[in.Name]
				meta += "  " + in.Name + ": {type: " + cmp.Or(typ, "string") + "}\n"
			}
		}
		files["actions/"+name+".yaml"] = meta
		files["actions/workflows/"+name+".yaml"] = src
	}
	p, err := packs.LoadDir(attunetest.WritePack(t, files), time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(context.Background(), p)
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
	ts, err := e.DB.AutoCommit().WorkflowTasks(context.Background(), id)
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
	kids, err := e.DB.AutoCommit().WorkflowChildren(context.Background(), id)
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

// Semantics 1: the start tasks are those with no inbound transition (here two, run in parallel);
// a cycle is legal and loops on a published counter until its when stops it.
func TestWorkflowStartTasksAndLoopWithCounter(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"loop": `
version: 1.0
vars:
  - i: 0
output:
  - i: <% ctx().i %>
tasks:
  side:
    action: core.noop
  init:
    action: core.noop
    next:
      - do: count
  count:
    action: core.noop
    next:
      - when: <% ctx().i < 4 %>
        publish: i=<% ctx().i + 1 %>
        do: count
`})
	x, res := runWorkflow(t, e, "loop", nil)
	require.Equal(t, attune.StatusCompleted, x.Status, "%s %s", x.Error, x.Result)
	require.Equal(t, map[string]any{"i": float64(4)}, res["output"])
	st := taskStates(t, e, x.ID)
	require.Equal(t, "succeeded", st["side/0"])
	require.Equal(t, "succeeded", st["init/0"])
	for r := 0; r <= 4; r++ {
		require.Equal(t, "succeeded", st[fmt.Sprintf("count/%d", r)], st)
	}
	require.NotContains(t, st, "count/5")
	require.Len(t, children(t, e, x.ID), 7)
}

// Semantics 1: workflows.max_task_runs fails a loop that never ends, with an error that says so.
func TestWorkflowMaxTaskRunsStopsRunawayLoop(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"forever": `
version: 1.0
tasks:
  begin:
    next:
      - do: spin
  spin:
    next:
      - do: spin
`}, attunetest.Options{MaxTaskRuns: 50})
	x, res := runWorkflow(t, e, "forever", nil)
	require.Equal(t, attune.StatusFailed, x.Status)
	errs := res["errors"].([]any)
	require.Len(t, errs, 1)
	e0 := errs[0].(map[string]any)
	require.Equal(t, "spin", e0["task_id"])
	require.Contains(t, e0["message"], "workflows.max_task_runs")
	require.Contains(t, x.Error, "50 task runs")
	require.Len(t, tasks(t, e, x.ID), 51)
	require.Equal(t, "failed", tasks(t, e, x.ID)[50].State)
}

// Semantics 2 and 3: every transition whose when holds fires, in declared order (not the first
// match), each publishing to its own branch; a timed-out action counts as failed.
func TestWorkflowEveryMatchingTransitionFires(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"fan": `
version: 1.0
output:
  - last: <% ctx().who %>
tasks:
  slow:
    action: core.local cmd="sleep 5" timeout=1
    next:
      - when: <% failed() %>
        publish: who=first
        do: caught
      - when: <% succeeded() %>
        do: never
      - publish: who=second
        do: [always, also]
      - when: <% completed() %>
        do: noop
  caught:
    action: core.noop
  always:
    action: core.noop
  also:
    action: core.noop
  never:
    action: core.noop
`})
	x, res := runWorkflow(t, e, "fan", nil)
	require.Equal(t, attune.StatusCompleted, x.Status, "%s %s", x.Error, x.Result)
	st := taskStates(t, e, x.ID)
	require.Equal(t, "failed", st["slow/0"])
	require.Equal(t, "succeeded", st["caught/0"])
	require.Equal(t, "succeeded", st["always/0"])
	require.Equal(t, "succeeded", st["also/0"])
	require.NotContains(t, st, "never/0")
	require.Equal(t, map[string]any{"last": "second"}, res["output"], "publishes apply in declared order")
	kids := children(t, e, x.ID)
	require.Equal(t, attune.StatusTimeout, kids[0].Status)
}

// Semantics 3: an expression that cannot be evaluated fails the workflow, naming the task and
// the expression.
func TestWorkflowExpressionErrorNamesTaskAndExpression(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"bad": `
version: 1.0
tasks:
  first:
    action: core.noop
    next:
      - when: <% ctx().nothing.deeper > 1 %>
        do: second
  second:
    action: core.noop
`})
	x, res := runWorkflow(t, e, "bad", nil)
	require.Equal(t, attune.StatusFailed, x.Status)
	e0 := res["errors"].([]any)[0].(map[string]any)
	require.Equal(t, "first", e0["task_id"])
	require.Contains(t, e0["message"], "task first: expression")
	require.Contains(t, e0["message"], "ctx().nothing.deeper")
	require.NotContains(t, taskStates(t, e, x.ID), "second/0")
}

// Semantics 4: a failure is handled by a transition that names a task or noop; continue (the
// default) fails the workflow, after running tasks drained, with errors [{message, task_id}]
// and the output still rendered; fail fails it on purpose, even after a success.
func TestWorkflowFailureHandling(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{
		"noop": `
version: 1.0
tasks:
  boom:
    action: core.local cmd="exit 3"
    next:
      - when: <% failed() %>
        do: noop
`,
		"unhandled": `
version: 1.0
vars:
  - seen: before
output:
  - seen: <% ctx().seen %>
tasks:
  boom:
    action: core.local cmd="exit 3"
    next:
      - when: <% succeeded() %>
        do: after
      - when: <% failed() %>
        publish: seen=failed
        do: continue
  slow:
    action: core.local cmd="sleep 1"
    next:
      - do: after
  after:
    action: core.noop
`,
		"onpurpose": `
version: 1.0
tasks:
  ok:
    action: core.noop
    next:
      - when: <% succeeded() %>
        do: fail
`,
	})
	x, res := runWorkflow(t, e, "noop", nil)
	require.Equal(t, attune.StatusCompleted, x.Status, "%s %s", x.Error, x.Result)
	require.Nil(t, res["errors"])

	x, res = runWorkflow(t, e, "unhandled", nil)
	require.Equal(t, attune.StatusFailed, x.Status)
	require.Equal(t, map[string]any{"seen": "failed"}, res["output"], "output is rendered on failure")
	errs := res["errors"].([]any)
	require.Len(t, errs, 1)
	require.Equal(t, "boom", errs[0].(map[string]any)["task_id"])
	require.Contains(t, errs[0].(map[string]any)["message"], "exited with code 3")
	st := taskStates(t, e, x.ID)
	require.Equal(t, "succeeded", st["slow/0"], "running tasks drain")
	require.Equal(t, "ready", st["after/0"], "slow's branch reached after, but nothing new starts after an unhandled failure")
	for _, k := range children(t, e, x.ID) {
		require.NotEqual(t, "after", k.Parent.Task)
	}

	x, res = runWorkflow(t, e, "onpurpose", nil)
	require.Equal(t, attune.StatusFailed, x.Status)
	require.Contains(t, res["errors"].([]any)[0].(map[string]any)["message"], "do: fail")
}

// Semantics 5 and 6: without join each arrival starts an instance; join all waits for every
// inbound branch and merges their contexts (the last writer wins); join N runs after N.
func TestWorkflowJoins(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"joins": `
version: 1.0
vars:
  - shared: start
output:
  - merged: <% ctx().merged %>
  - firsttwo: <% ctx().firsttwo %>
tasks:
  a:
    action: core.noop
    next:
      - publish: [{from_a: a}, {shared: a}]
        do: [all3, two, each]
  b:
    action: core.local cmd="sleep 0.3"
    next:
      - publish: [{from_b: b}, {shared: b}]
        do: [all3, two, each]
  c:
    action: core.local cmd="sleep 0.6"
    next:
      - publish: [{from_c: c}, {shared: c}]
        do: [all3, two, each]
  all3:
    join: all
    action: core.noop
    next:
      - publish:
          - merged: <% ctx().from_a + ctx().from_b + ctx().from_c + ":" + ctx().shared %>
  two:
    join: 2
    action: core.noop
    next:
      - publish:
          - firsttwo: <% ctx().shared %>
  each:
    action: core.noop
`})
	x, res := runWorkflow(t, e, "joins", nil)
	require.Equal(t, attune.StatusCompleted, x.Status, "%s %s", x.Error, x.Result)
	st := taskStates(t, e, x.ID)
	require.Equal(t, "succeeded", st["all3/0"])
	require.NotContains(t, st, "all3/1", "join all runs once")
	require.Equal(t, "succeeded", st["two/0"])
	require.Equal(t, "waiting", st["two/1"], "the third arrival at a join 2 waits for a fourth that never comes")
	for r := 0; r < 3; r++ {
		require.Equal(t, "succeeded", st[fmt.Sprintf("each/%d", r)])
	}
	out := res["output"].(map[string]any)
	require.Equal(t, "abc:c", out["merged"], "every branch's context, the last arrival winning")
	require.Equal(t, "b", out["firsttwo"])
}

// Semantics 7: with-items runs concurrency items at a time, topped up in list order; result()
// is the ordered list of the item results.
func TestWorkflowWithItemsConcurrency(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"items": `
version: 1.0
input:
  - xs
output:
  - outs: <% ctx().outs %>
tasks:
  each:
    with:
      items: <% ctx().xs %>
      concurrency: 2
    action: core.local cmd="sleep 0.<% item() %>; echo <% item() %>"
    next:
      - when: <% succeeded() %>
        publish: outs=<% result().select($.stdout) %>
`})
	xs := []any{"3", "1", "2", "1", "2"}
	x, res := runWorkflow(t, e, "items", map[string]any{"xs": xs})
	require.Equal(t, attune.StatusCompleted, x.Status, "%s %s", x.Error, x.Result)
	require.Equal(t, map[string]any{"outs": xs}, res["output"])
	kids := children(t, e, x.ID)
	require.Len(t, kids, 5)
	for i, k := range kids {
		require.Equal(t, i, k.Parent.Item, "items start in list order")
		open := 0
		for _, o := range kids {
			if o.ID != k.ID && !o.CreatedAt.After(k.CreatedAt) && o.FinishedAt.After(k.CreatedAt) {
				open++
			}
		}
		require.Less(t, open, 2, "item %d started while 2 others ran", i)
	}
}

// Semantics 7: a failed item fails the task once no item runs; the items not started then are
// never started.
func TestWorkflowWithItemsFailingItem(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"items": `
version: 1.0
tasks:
  each:
    with:
      items: <% [0, 1, 2, 3, 4, 5] %>
      concurrency: 2
    action: core.local
    input:
      cmd: if [ <% item() %> = 1 ]; then exit 1; fi; sleep 0.5
`})
	x, res := runWorkflow(t, e, "items", nil)
	require.Equal(t, attune.StatusFailed, x.Status)
	kids := children(t, e, x.ID)
	require.Len(t, kids, 2, "item 1 failed while item 0 ran: nothing more started")
	for _, k := range kids {
		require.True(t, k.Status.Terminal())
	}
	require.Equal(t, attune.StatusCompleted, kids[0].Status, "the running item drained")
	e0 := res["errors"].([]any)[0].(map[string]any)
	require.Equal(t, "each", e0["task_id"])
	require.Contains(t, e0["message"], "item 1")
	require.Equal(t, "failed", taskStates(t, e, x.ID)["each/0"])
}

// Semantics 8: retry reruns a failed task up to count times, delay apart, and the last attempt
// stands; when can ask for a retry on other outcomes; do: retry is 3 retries.
func TestWorkflowRetry(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := wfEnv(t, map[string]string{"retry": fmt.Sprintf(`
version: 1.0
output:
  - tries: <%% result() %%>
tasks:
  flaky:
    action: core.local
    input:
      cmd: n=$(cat %[1]s/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > %[1]s/n; echo $n; [ $n -ge 3 ]
    retry:
      count: 5
      delay: 1
    next:
      - when: <%% succeeded() %%>
        publish: tries=<%% result().stdout %%>
`, dir),
		"exhausted": `
version: 1.0
tasks:
  never:
    action: core.local cmd="exit 1"
    retry:
      count: 2
`,
		"doretry": `
version: 1.0
tasks:
  never:
    action: core.local cmd="exit 1"
    next:
      - when: <% failed() %>
        do: retry
`,
		"when": `
version: 1.0
tasks:
  ok:
    action: core.local cmd="echo again"
    retry:
      count: 2
      when: <% succeeded() and result().stdout = "again" %>
`,
	})
	x, _ := runWorkflow(t, e, "retry", nil)
	require.Equal(t, attune.StatusCompleted, x.Status, "%s %s", x.Error, x.Result)
	kids := children(t, e, x.ID)
	require.Len(t, kids, 3)
	for i, k := range kids {
		require.Equal(t, i, k.Parent.Retry)
	}
	require.False(t, kids[2].StartedAt.Before(kids[1].FinishedAt.Add(time.Second)), "retries are delay apart")
	ts := tasks(t, e, x.ID)
	require.Len(t, ts, 1)
	require.Equal(t, 2, ts[0].Retry)
	require.Equal(t, "succeeded", ts[0].State)

	x, _ = runWorkflow(t, e, "exhausted", nil)
	require.Equal(t, attune.StatusFailed, x.Status)
	require.Len(t, children(t, e, x.ID), 3, "the first run and 2 retries; the last one stands")

	x, _ = runWorkflow(t, e, "doretry", nil)
	require.Equal(t, attune.StatusFailed, x.Status)
	require.Len(t, children(t, e, x.ID), 4, "do: retry is 3 retries")

	x, _ = runWorkflow(t, e, "when", nil)
	require.Equal(t, attune.StatusCompleted, x.Status)
	require.Len(t, children(t, e, x.ID), 3, "retry when holds on success too")
}

// Semantics 9: the functions, through real workflows: ctx(), ctx(name), result() of a shell
// action (stdout without its final newline, stderr, return_code, succeeded), task(name),
// item(name) over zip(), json().
func TestWorkflowFunctions(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"fns": `
version: 1.0
input:
  - who: ann
output:
  - view: <% ctx(view) %>
  - status: <% ctx().status %>
  - pairs: <% ctx().pairs %>
  - parsed: <% ctx().parsed %>
tasks:
  shell:
    action: core.local
    input:
      cmd: echo hi <% ctx(who) %>; echo oops >&2; exit 0
    next:
      - when: <% succeeded() %>
        publish:
          - view: <% result() %>
          - parsed: "<% json('{\"k\": [1, 2]}') %>"
        do: zipped
  zipped:
    with: a, b in <% zip([1, 2], ['x', 'y']) %>
    action: core.local cmd="echo <% item(a) %><% item(b) %>"
    next:
      - publish:
          - pairs: <% result().select($.stdout) %>
          - status: <% task(shell).status %>
`})
	x, res := runWorkflow(t, e, "fns", nil)
	require.Equal(t, attune.StatusCompleted, x.Status, "%s %s", x.Error, x.Result)
	out := res["output"].(map[string]any)
	view := out["view"].(map[string]any)
	require.Equal(t, "hi ann", view["stdout"])
	require.Equal(t, "oops", view["stderr"])
	require.Equal(t, float64(0), view["return_code"])
	require.Equal(t, true, view["succeeded"])
	require.Equal(t, "succeeded", out["status"])
	require.Equal(t, []any{"1x", "2y"}, out["pairs"])
	require.Equal(t, map[string]any{"k": []any{float64(1), float64(2)}}, out["parsed"])
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func execution(t *testing.T, e *attunetest.Env, id int64) attune.Execution {
	t.Helper()
	x, err := e.DB.AutoCommit().Execution(context.Background(), id)
	require.NoError(t, err)
	return x
}

// Semantics 11: cancelling a workflow cancels its running children (and those not started
// yet) and schedules nothing more; it ends cancelled.
func TestWorkflowCancel(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"long": `
version: 1.0
tasks:
  running:
    action: core.local cmd="sleep 30"
    next:
      - do: after
  later:
    delay: 3600
    action: core.noop
    next:
      - do: after
  after:
    action: core.noop
`})
	ctx := context.Background()
	x, err := e.P.Run(ctx, "wf.long", nil, 0)
	require.NoError(t, err)
	waitFor(t, "the sleep to run", func() bool {
		kids := children(t, e, x.ID)
		return len(kids) == 2 && kids[0].Status == attune.StatusRunning
	})
	c, err := e.P.Cancel(ctx, x.ID, "cli:test")
	require.NoError(t, err)
	require.Equal(t, attune.StatusCanceling, c.Status)
	x = e.WaitTerminal(t, x.ID, 20*time.Second)
	require.Equal(t, attune.StatusCancelled, x.Status)
	require.Contains(t, x.Error, "cli:test")
	kids := children(t, e, x.ID)
	require.Len(t, kids, 2, "nothing more was scheduled")
	for _, k := range kids {
		require.Equal(t, attune.StatusCancelled, k.Status, k.Parent.Task)
	}
	st := taskStates(t, e, x.ID)
	require.Equal(t, map[string]string{"running/0": "cancelled", "later/0": "cancelled"}, st)
	_, err = e.P.Cancel(ctx, x.ID, "cli:test")
	require.ErrorIs(t, err, attune.ErrConflict)
}

// Semantics 11: pause lets running children finish and starts nothing; resume continues from
// where it paused.
func TestWorkflowPauseResume(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"steps": `
version: 1.0
tasks:
  first:
    action: core.local cmd="sleep 1"
    next:
      - do: second
  second:
    action: core.noop
`})
	ctx := context.Background()
	x, err := e.P.Run(ctx, "wf.steps", nil, 0)
	require.NoError(t, err)
	waitFor(t, "first to run", func() bool {
		kids := children(t, e, x.ID)
		return len(kids) == 1 && kids[0].Status == attune.StatusRunning
	})
	p, err := e.P.Pause(ctx, x.ID, "cli:test")
	require.NoError(t, err)
	require.Equal(t, attune.StatusPaused, p.Status)
	waitFor(t, "first to finish", func() bool { return children(t, e, x.ID)[0].Status.Terminal() })
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, attune.StatusPaused, execution(t, e, x.ID).Status)
	require.Len(t, children(t, e, x.ID), 1, "nothing starts while paused")
	require.Equal(t, "ready", taskStates(t, e, x.ID)["second/0"])

	r, err := e.P.Resume(ctx, x.ID, "cli:test")
	require.NoError(t, err)
	require.Equal(t, attune.StatusRunning, r.Status)
	x = e.WaitTerminal(t, x.ID, 20*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Len(t, children(t, e, x.ID), 2)

	_, err = e.P.Pause(ctx, x.ID, "cli:test")
	require.ErrorIs(t, err, attune.ErrConflict)
	y, err := e.P.Run(ctx, "core.noop", nil, 0)
	require.NoError(t, err)
	_, err = e.P.Pause(ctx, y.ID, "cli:test")
	require.ErrorIs(t, err, attune.ErrInvalid)
}

// A redelivered completion advances nothing twice: the task's end is recorded once, and the
// next task is scheduled once.
func TestWorkflowRedeliveredCompletionAdvancesNothingTwice(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"pair": `
version: 1.0
tasks:
  first:
    delay: 3600
    action: core.noop
    next:
      - do: second
  second:
    action: core.noop
`})
	ctx := context.Background()
	x, err := e.P.Run(ctx, "wf.pair", nil, 0)
	require.NoError(t, err)
	first := children(t, e, x.ID)[0]
	require.Equal(t, attune.StatusScheduled, first.Status)
	var done attune.Execution
	require.NoError(t, e.DB.InTx(ctx, func(q *db.Queries) error {
		done, err = jobs.FinishForTest(ctx, q.Tx(), first.ID, attune.StatusScheduled)
		if err != nil {
			return err
		}
		return e.P.AnnounceForTest(ctx, q.Tx(), done)
	}))
	x = e.WaitTerminal(t, x.ID, 20*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.NoError(t, e.P.AdvanceAgainForTest(ctx, done))
	require.NoError(t, e.P.AdvanceAgainForTest(ctx, done))
	require.Len(t, children(t, e, x.ID), 2)
	require.Equal(t, map[string]string{"first/0": "succeeded", "second/0": "succeeded"}, taskStates(t, e, x.ID))
	require.Equal(t, attune.StatusCompleted, execution(t, e, x.ID).Status)
}

// Two children of one workflow finishing at the same moment (both terminal transactions
// recorded before either advances) lose neither branch: the join runs once, with both, and the
// task without join runs once per branch.
func TestWorkflowConcurrentCompletionsKeepBothBranches(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"two": `
version: 1.0
output:
  - both: <% ctx().a + ctx().b %>
tasks:
  left:
    delay: 3600
    action: core.noop
    next:
      - publish: a=L
        do: [meet, each]
  right:
    delay: 3600
    action: core.noop
    next:
      - publish: b=R
        do: [meet, each]
  meet:
    join: all
    action: core.noop
  each:
    action: core.noop
`})
	ctx := context.Background()
	for round := 0; round < 3; round++ {
		x, err := e.P.Run(ctx, "wf.two", nil, 0)
		require.NoError(t, err)
		kids := children(t, e, x.ID)
		require.Len(t, kids, 2)
		var finished sync.WaitGroup
		finished.Add(2)
		errs := make(chan error, 2)
		for _, k := range kids {
			go func() {
				tx, err := e.DB.Pool.Begin(ctx)
				if err != nil {
					finished.Done()
					errs <- err
					return
				}
				defer tx.Rollback(ctx) //nolint:errcheck
				done, err := jobs.FinishForTest(ctx, tx, k.ID, attune.StatusScheduled)
				finished.Done()
				finished.Wait() // both children are terminal before either advances
				if err == nil {
					err = e.P.AnnounceForTest(ctx, tx, done)
				}
				if err == nil {
					err = tx.Commit(ctx)
				}
				errs <- err
			}()
		}
		require.NoError(t, <-errs)
		require.NoError(t, <-errs)
		x, res := e.WaitTerminal(t, x.ID, 20*time.Second), map[string]any{}
		require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
		require.NoError(t, json.Unmarshal(x.Result, &res))
		require.Equal(t, map[string]any{"both": "LR"}, res["output"])
		st := taskStates(t, e, x.ID)
		require.Equal(t, map[string]string{"left/0": "succeeded", "right/0": "succeeded", "meet/0": "succeeded",
			"each/0": "succeeded", "each/1": "succeeded"}, st)
	}
}

// A child that goes pending (core.ask waiting for a human) pauses its workflow: nothing new
// starts; its completion resumes the workflow, which then goes on.
func TestWorkflowChildPendingPausesParent(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"ask": `
version: 1.0
tasks:
  asking:
    action: core.local cmd="sleep 1"
    next:
      - do: after
  other:
    action: core.noop
    next:
      - do: after
  after:
    action: core.noop
`})
	ctx := context.Background()
	x, err := e.P.Run(ctx, "wf.ask", nil, 0)
	require.NoError(t, err)
	var asking attune.Execution
	waitFor(t, "asking to run", func() bool {
		for _, k := range children(t, e, x.ID) {
			if k.Parent.Task == "asking" && k.Status == attune.StatusRunning {
				asking = k
				return true
			}
		}
		return false
	})
	require.NoError(t, e.P.ChildPendingForTest(ctx, asking))
	require.Equal(t, attune.StatusPaused, execution(t, e, x.ID).Status)
	waitFor(t, "other's branch to arrive", func() bool { return taskStates(t, e, x.ID)["after/0"] == "ready" || len(children(t, e, x.ID)) > 2 })
	x = e.WaitTerminal(t, x.ID, 20*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Len(t, children(t, e, x.ID), 4, "after ran once per branch, once the asking task ended")
	hist, err := e.DB.AutoCommit().History(ctx, x.ID)
	require.NoError(t, err)
	var path []attune.ExecutionStatus
	for _, h := range hist {
		path = append(path, h.To)
	}
	require.Equal(t, []attune.ExecutionStatus{attune.StatusScheduled, attune.StatusRunning, attune.StatusPaused, attune.StatusRunning, attune.StatusCompleted}, path)
}

// A workflow runs a workflow as a task: the child's end advances the parent, its output is
// the parent's result() of the task; cancelling the parent cancels the child workflow and its
// running action. A task's delay holds its action back.
func TestWorkflowNestedAndDelay(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{
		"inner": `
version: 1.0
input:
  - n
output:
  - twice: <% ctx().n * 2 %>
tasks:
  wait:
    delay: 1
    action: core.noop
`,
		"outer": `
version: 1.0
output:
  - got: <% ctx().got %>
tasks:
  call:
    action: wf.inner n=21
    next:
      - when: <% succeeded() %>
        publish: got=<% result().output.twice %>
`,
		"innerlong": `
version: 1.0
tasks:
  sleep:
    action: core.local cmd="sleep 30"
`,
		"outerlong": `
version: 1.0
tasks:
  call:
    action: wf.innerlong
`,
	})
	x, res := runWorkflow(t, e, "outer", nil)
	require.Equal(t, attune.StatusCompleted, x.Status, "%s %s", x.Error, x.Result)
	require.Equal(t, map[string]any{"got": float64(42)}, res["output"])
	inner := children(t, e, x.ID)[0]
	wait := children(t, e, inner.ID)[0]
	require.False(t, wait.StartedAt.Before(wait.CreatedAt.Add(time.Second)), "delay: 1 holds the action a second")

	ctx := context.Background()
	x, err := e.P.Run(ctx, "wf.outerlong", nil, 0)
	require.NoError(t, err)
	var sleeping attune.Execution
	waitFor(t, "the inner sleep to run", func() bool {
		kids := children(t, e, x.ID)
		if len(kids) == 0 {
			return false
		}
		gk := children(t, e, kids[0].ID)
		if len(gk) > 0 && gk[0].Status == attune.StatusRunning {
			sleeping = gk[0]
			return true
		}
		return false
	})
	_, err = e.P.Cancel(ctx, x.ID, "cli:test")
	require.NoError(t, err)
	x = e.WaitTerminal(t, x.ID, 20*time.Second)
	require.Equal(t, attune.StatusCancelled, x.Status)
	require.Equal(t, attune.StatusCancelled, execution(t, e, children(t, e, x.ID)[0].ID).Status)
	require.Equal(t, attune.StatusCancelled, execution(t, e, sleeping.ID).Status)
}

// A task's action with its own retry policy: the task waits for the policy's last attempt, which
// carries the same task placement, and advances once, on that attempt's outcome.
func TestWorkflowTaskActionRetryPolicy(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"pol": `
version: 1.0
tasks:
  flaky:
    action: pol.flaky
    next:
      - when: <% succeeded() %>
        do: after
  after:
    action: core.noop
`})
	flag := filepath.Join(t.TempDir(), "second-time")
	p, err := packs.LoadDir(attunetest.WritePack(t, map[string]string{
		"pack.yaml":          "ref: pol\nversion: 1.0.0\n",
		"actions/flaky.yaml": "ref: flaky\nentry_point: flaky.sh\nretry: {count: 3, delay: 0}\n",
		"actions/flaky.sh":   "if [ -e '" + flag + "' ]; then echo ok; exit 0; fi\ntouch '" + flag + "'\nexit 1\n",
	}), time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(context.Background(), p)
	require.NoError(t, err)

	x, _ := runWorkflow(t, e, "pol", nil)
	require.Equal(t, attune.StatusCompleted, x.Status, "%s %s", x.Error, x.Result)
	kids := children(t, e, x.ID)
	require.Len(t, kids, 3)
	require.Equal(t, attune.StatusFailed, kids[0].Status)
	require.Equal(t, attune.StatusCompleted, kids[1].Status)
	require.Equal(t, 2, kids[1].Attempt)
	require.Equal(t, *kids[0].Parent, *kids[1].Parent, "the retry runs the same task")
	require.Equal(t, "after", kids[2].Parent.Task)
	require.Equal(t, map[string]string{"flaky/0": "succeeded", "after/0": "succeeded"}, taskStates(t, e, x.ID))
}

// The worker running a task is lost: the reaper ends the task's child abandoned, which the task
// counts as failed and retries; the workflow itself, which no worker runs, is never reaped.
func TestWorkflowLostWorkerIsAFailedTask(t *testing.T) {
	t.Parallel()
	flag := filepath.Join(t.TempDir(), "second-time")
	e := wfEnv(t, map[string]string{"lost": fmt.Sprintf(`
version: 1.0
tasks:
  work:
    action: core.local
    input:
      cmd: if [ -e '%[1]s' ]; then exit 0; fi; touch '%[1]s'; sleep 5
    retry:
      count: 1
`, flag)})
	ctx := context.Background()
	x, err := e.P.Run(ctx, "wf.lost", nil, 0)
	require.NoError(t, err)
	waitFor(t, "the task to run", func() bool {
		kids := children(t, e, x.ID)
		return len(kids) == 1 && kids[0].Status == attune.StatusRunning
	})
	n, err := e.P.Reap(ctx, time.Nanosecond) // test-worker never heartbeats: it is "lost"
	require.NoError(t, err)
	require.Equal(t, 1, n, "the running child is reaped, the workflow is not")
	x = e.WaitTerminal(t, x.ID, 20*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	kids := children(t, e, x.ID)
	require.Len(t, kids, 2)
	require.Equal(t, attune.StatusAbandoned, kids[0].Status)
	require.Equal(t, attune.StatusCompleted, kids[1].Status)
	require.Equal(t, 1, kids[1].Parent.Retry)
}
