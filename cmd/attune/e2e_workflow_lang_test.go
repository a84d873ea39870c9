package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// wfExec is a workflow execution as `attune execution get ID --json` shows it.
type wfExec struct {
	ID     int64          `json:"id"`
	Status string         `json:"status"`
	Error  string         `json:"error"`
	Result map[string]any `json:"result"`
	Tasks  []struct {
		Task     string `json:"task"`
		Route    int    `json:"route"`
		Status   string `json:"status"`
		Attempts int    `json:"attempts"`
		Items    *struct {
			Total       int   `json:"total"`
			Started     int   `json:"started"`
			Succeeded   int   `json:"succeeded"`
			Failed      int   `json:"failed"`
			FailedItems []int `json:"failed_items"`
		} `json:"items"`
		Executions []int64 `json:"executions"`
	} `json:"tasks"`
}

// tree is "task#route:status:attempts" for every task instance, in the order they were reached.
func (x wfExec) tree() []string {
	var out []string
	for _, t := range x.Tasks {
		out = append(out, fmt.Sprintf("%s#%d:%s:%d", t.Task, t.Route, t.Status, t.Attempts))
	}
	return out
}

func (in *instance) getWorkflow(id int64) wfExec {
	in.t.Helper()
	out, errOut, code := in.attune("execution", "get", strconv.FormatInt(id, 10), "--json")
	require.Equal(in.t, 0, code, errOut)
	var x wfExec
	require.NoError(in.t, json.Unmarshal([]byte(out), &x), out)
	return x
}

// runWorkflow runs ref with args to its end through `attune run --json`, and returns it as
// `attune execution get --json` shows it, with run's exit code.
func (in *instance) runWorkflow(ref string, args ...string) (wfExec, int) {
	in.t.Helper()
	out, errOut, code := in.attune(append([]string{"run", ref, "--json"}, args...)...)
	var x wfExec
	require.NoError(in.t, json.Unmarshal([]byte(out), &x), "run %s: %s %s", ref, out, errOut)
	return in.getWorkflow(x.ID), code
}

// latestOf waits for an execution of ref in status and returns its id.
func (in *instance) latestOf(ref, status string) int64 {
	in.t.Helper()
	var id int64
	require.Eventually(in.t, func() bool {
		out, _, code := in.attune("execution", "list", "--action", ref, "--status", status, "--json", "--limit", "1")
		var xs []wfExec
		if code != 0 || json.Unmarshal([]byte(out), &xs) != nil || len(xs) == 0 {
			return false
		}
		id = xs[0].ID
		return true
	}, 60*time.Second, 200*time.Millisecond, "no %s execution of %s", status, ref)
	return id
}

// The Orquesta language as a user runs it, with the real binary and one replica: each workflow
// exercises the feature it is named after, and the test reads what `attune execution get --json`
// shows of it (status, output, errors, and the task tree).
func TestWorkflowLanguageEndToEnd(t *testing.T) {
	in := newInstance(t)
	pack := filepath.Join(in.dir, "lang")
	files := map[string]string{"pack.yaml": "ref: lang\nversion: 1.0.0\n"}
	wf := func(name, params, body string) {
		files["actions/"+name+".yaml"] = "ref: " + name + "\nrunner_type: orquesta\nentry_point: workflows/" + name + ".yaml\n" + params
		files["actions/workflows/"+name+".yaml"] = "version: 1.0\n" + body
	}
	wf("seq", "", `output:
  - trail: <% ctx().trail %>
vars:
  - trail: start
tasks:
  one:
    action: core.local cmd="echo one"
    next:
      - when: <% succeeded() %>
        publish: trail="<% ctx().trail %>,<% result().stdout %>"
        do: two
  two:
    action: core.local cmd="echo two"
    next:
      - when: <% succeeded() %>
        publish: trail="<% ctx().trail %>,<% result().stdout %>"
        do: three
  three:
    action: core.noop
`)
	wf("branch", "parameters:\n  n: {type: integer, required: true}\n", `input: [n]
output:
  - took: <% ctx().took %>
tasks:
  decide:
    action: core.noop
    next:
      - when: <% ctx().n > 5 %>
        publish: took=big
        do: big
      - when: <% ctx().n <= 5 %>
        publish: took=small
        do: small
  big:
    action: core.noop
  small:
    action: core.noop
`)
	wf("join", "", `output:
  - all: "<% ctx().a %><% ctx().b %><% ctx().c %>"
tasks:
  fork:
    action: core.noop
    next:
      - do: a, b, c
  a:
    action: core.local cmd="echo A"
    next:
      - publish: a=<% result().stdout %>
        do: together
  b:
    action: core.local cmd="echo B"
    next:
      - publish: b=<% result().stdout %>
        do: together
  c:
    action: core.local cmd="echo C"
    next:
      - publish: c=<% result().stdout %>
        do: together
  together:
    join: all
    action: core.noop
`)
	wf("items", "", `tasks:
  each:
    with:
      items: <% [1, 2, 3, 4, 5, 6] %>
      concurrency: 2
    action: core.local
    input:
      cmd: test <% item() %> -ne 4
`)
	wf("retry", "parameters:\n  dir: {type: string, required: true}\n", `input: [dir]
tasks:
  flaky:
    action: core.local
    input:
      cmd: test -e marker || { touch marker; exit 1; }
      cwd: <% ctx().dir %>
    retry:
      count: 3
`)
	wf("loop", "", `vars:
  - i: 0
output:
  - i: <% ctx().i %>
tasks:
  init:
    action: core.noop
    next:
      - do: step
  step:
    action: core.noop
    next:
      - when: <% ctx().i < 2 %>
        publish: i=<% ctx().i + 1 %>
        do: step
      - when: <% ctx().i >= 2 %>
        do: done
  done:
    action: core.noop
`)
	wf("handled", "", `tasks:
  bad:
    action: core.local cmd="exit 3"
    next:
      - when: <% failed() %>
        do: noop
      - when: <% succeeded() %>
        do: after
  after:
    action: core.noop
`)
	wf("unhandled", "", `tasks:
  bad:
    action: core.local cmd="exit 3"
    next:
      - when: <% succeeded() %>
        do: after
  after:
    action: core.noop
`)
	wf("ask", "parameters:\n  ttl: {type: integer, default: 1440}\n", `input: [ttl]
output:
  - approved: <% ctx().approved %>
tasks:
  approve:
    action: core.ask
    input:
      ttl: <% ctx().ttl %>
    next:
      - when: <% succeeded() %>
        publish: approved=<% result().response.continue %>
        do: after
  after:
    action: core.noop
`)
	wf("long", "", `tasks:
  first:
    action: core.noop
    next:
      - do: nap
  nap:
    action: core.local cmd="sleep 60" timeout=120
    next:
      - do: never
  never:
    action: core.noop
`)
	wf("fix", "parameters:\n  dir: {type: string, required: true}\n", `input: [dir]
output:
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
`)
	writeFiles(t, pack, files)
	stop, logs := in.start()
	defer stop()
	url := in.dbURL()
	out, errOut, code := in.attune("pack", "register", pack)
	require.Equal(t, 0, code, "pack register: %s %s", out, errOut)

	t.Run("sequential", func(t *testing.T) {
		x, code := in.runWorkflow("lang.seq")
		require.Equal(t, 0, code)
		require.Equal(t, "completed", x.Status)
		require.Equal(t, map[string]any{"trail": "start,one,two"}, x.Result["output"])
		require.Equal(t, []string{"one#0:succeeded:1", "two#0:succeeded:1", "three#0:succeeded:1"}, x.tree())
	})
	t.Run("branching with when", func(t *testing.T) {
		x, code := in.runWorkflow("lang.branch", "n=7")
		require.Equal(t, 0, code)
		require.Equal(t, map[string]any{"took": "big"}, x.Result["output"])
		require.Equal(t, []string{"decide#0:succeeded:1", "big#0:succeeded:1"}, x.tree())
		x, code = in.runWorkflow("lang.branch", "n=3")
		require.Equal(t, 0, code)
		require.Equal(t, map[string]any{"took": "small"}, x.Result["output"])
		require.Equal(t, []string{"decide#0:succeeded:1", "small#0:succeeded:1"}, x.tree())
	})
	t.Run("join of three branches", func(t *testing.T) {
		x, code := in.runWorkflow("lang.join")
		require.Equal(t, 0, code)
		require.Equal(t, "completed", x.Status)
		require.Equal(t, map[string]any{"all": "ABC"}, x.Result["output"], "the join sees what every branch published")
		require.ElementsMatch(t, []string{"fork#0:succeeded:1", "a#0:succeeded:1", "b#0:succeeded:1", "c#0:succeeded:1",
			"together#0:succeeded:1"}, x.tree(), "together ran once, after all three")
	})
	t.Run("with-items with concurrency and a failing item", func(t *testing.T) {
		x, code := in.runWorkflow("lang.items")
		require.Equal(t, 1, code)
		require.Equal(t, "failed", x.Status)
		errs := x.Result["errors"].([]any)
		require.Equal(t, "each", errs[0].(map[string]any)["task_id"])
		require.Len(t, x.Tasks, 1)
		it := x.Tasks[0].Items
		require.NotNil(t, it)
		require.Equal(t, 6, it.Total)
		require.Equal(t, []int{3}, it.FailedItems, "item 3 (the value 4) failed")
		require.Equal(t, 1, it.Failed)
		require.LessOrEqual(t, it.Started, 6)
		require.GreaterOrEqual(t, it.Started, 4)
		require.Equal(t, it.Started, it.Succeeded+it.Failed, "the items started finished before the workflow did")
	})
	t.Run("retry", func(t *testing.T) {
		x, code := in.runWorkflow("lang.retry", "dir="+in.dir)
		require.Equal(t, 0, code, "%+v", x)
		require.Equal(t, "completed", x.Status)
		require.Equal(t, []string{"flaky#0:succeeded:2"}, x.tree(), "the first attempt failed, the retry succeeded")
		require.Len(t, x.Tasks[0].Executions, 2)
	})
	t.Run("loop with a counter", func(t *testing.T) {
		x, code := in.runWorkflow("lang.loop")
		require.Equal(t, 0, code)
		require.Equal(t, map[string]any{"i": float64(2)}, x.Result["output"])
		require.Equal(t, []string{"init#0:succeeded:1", "step#0:succeeded:1", "step#1:succeeded:1", "step#2:succeeded:1", "done#0:succeeded:1"}, x.tree())
	})
	t.Run("error handled by do noop", func(t *testing.T) {
		x, code := in.runWorkflow("lang.handled")
		require.Equal(t, 0, code)
		require.Equal(t, "completed", x.Status)
		require.Equal(t, []string{"bad#0:failed:1"}, x.tree())
	})
	t.Run("unhandled failure", func(t *testing.T) {
		x, code := in.runWorkflow("lang.unhandled")
		require.Equal(t, 1, code)
		require.Equal(t, "failed", x.Status)
		errs := x.Result["errors"].([]any)
		require.Equal(t, "bad", errs[0].(map[string]any)["task_id"])
		require.Equal(t, []string{"bad#0:failed:1"}, x.tree(), "after never ran")
	})
	t.Run("core.ask answered", func(t *testing.T) {
		done := make(chan wfExec, 1)
		go func() {
			out, _, _ := in.attune("run", "lang.ask", "--json")
			var x wfExec
			_ = json.Unmarshal([]byte(out), &x)
			done <- x
		}()
		id := in.latestOf("lang.ask", "paused")
		x := in.getWorkflow(id)
		require.Equal(t, []string{"approve#0:running:1"}, x.tree())
		ask := strconv.FormatInt(x.Tasks[0].Executions[0], 10)
		out, errOut, code := in.attune("inquiry", "respond", ask, "continue=true")
		require.Equal(t, 0, code, "%s %s", out, errOut)
		select {
		case r := <-done:
			require.Equal(t, id, r.ID)
			require.Equal(t, "completed", r.Status, "attune run waited through the pause")
		case <-time.After(60 * time.Second):
			t.Fatalf("attune run did not return; logs:\n%s", logs)
		}
		x = in.getWorkflow(id)
		require.Equal(t, map[string]any{"approved": true}, x.Result["output"])
		require.Equal(t, []string{"approve#0:succeeded:1", "after#0:succeeded:1"}, x.tree())
	})
	t.Run("core.ask expired", func(t *testing.T) {
		done := make(chan int, 1)
		go func() {
			_, _, code := in.attune("run", "lang.ask", "ttl=1", "--json")
			done <- code
		}()
		id := in.latestOf("lang.ask", "paused")
		x := in.getWorkflow(id)
		ask := x.Tasks[0].Executions[0]
		// The ttl is a whole number of minutes: rather than wait one, bring its expiry (the
		// inquiry's expires_at and the River job scheduled for it) to now. The real replica's
		// expiry job does the rest.
		conn, err := pgx.Connect(context.Background(), url)
		require.NoError(t, err)
		defer conn.Close(context.Background())
		_, err = conn.Exec(context.Background(), `UPDATE attune.inquiry SET expires_at = now() WHERE id = $1`, ask)
		require.NoError(t, err)
		tag, err := conn.Exec(context.Background(), `UPDATE river_job SET scheduled_at = now()
			WHERE kind = 'attune.inquiry.expire' AND state = 'scheduled' AND (args->>'inquiry_id')::bigint = $1`, ask)
		require.NoError(t, err)
		require.EqualValues(t, 1, tag.RowsAffected())
		select {
		case code := <-done:
			require.Equal(t, 1, code)
		case <-time.After(60 * time.Second):
			t.Fatalf("attune run did not return; logs:\n%s", logs)
		}
		x = in.getWorkflow(id)
		require.Equal(t, "failed", x.Status)
		require.Equal(t, []string{"approve#0:failed:1"}, x.tree())
		out, errOut, code := in.attune("execution", "get", strconv.FormatInt(ask, 10), "--json")
		require.Equal(t, 0, code, errOut)
		var a wfExec
		require.NoError(t, json.Unmarshal([]byte(out), &a))
		require.Equal(t, "timeout", a.Status)
		require.Contains(t, a.Error, "was not answered within its ttl of 1 minutes")
		out, errOut, code = in.attune("inquiry", "get", strconv.FormatInt(ask, 10), "--json")
		require.Equal(t, 0, code, errOut)
		var inq map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &inq))
		require.Equal(t, "expired", inq["status"])
	})
	t.Run("cancel mid-workflow", func(t *testing.T) {
		done := make(chan int, 1)
		go func() {
			_, _, code := in.attune("run", "lang.long", "--json")
			done <- code
		}()
		id := in.latestOf("lang.long", "running")
		var nap int64
		require.Eventually(t, func() bool {
			x := in.getWorkflow(id)
			if len(x.Tasks) != 2 || len(x.Tasks[1].Executions) != 1 {
				return false
			}
			nap = x.Tasks[1].Executions[0]
			out, _, _ := in.attune("execution", "get", strconv.FormatInt(nap, 10), "--json")
			var n wfExec
			return json.Unmarshal([]byte(out), &n) == nil && n.Status == "running"
		}, 60*time.Second, 200*time.Millisecond, "nap never ran")
		out, errOut, code := in.attune("execution", "cancel", strconv.FormatInt(id, 10))
		require.Equal(t, 0, code, "%s %s", out, errOut)
		require.Contains(t, out, fmt.Sprintf("execution %d cancelled", id))
		select {
		case code := <-done:
			require.Equal(t, 1, code)
		case <-time.After(60 * time.Second):
			t.Fatalf("attune run did not return; logs:\n%s", logs)
		}
		x := in.getWorkflow(id)
		require.Equal(t, "cancelled", x.Status)
		require.Equal(t, []string{"first#0:succeeded:1", "nap#0:cancelled:1"}, x.tree(), "never never started")
	})
	t.Run("rerun from a task", func(t *testing.T) {
		dir := filepath.Join(in.dir, "fix")
		require.NoError(t, os.MkdirAll(dir, 0o777))
		old, code := in.runWorkflow("lang.fix", "dir="+dir)
		require.Equal(t, 1, code)
		require.Equal(t, []string{"one#0:succeeded:1", "two#0:failed:1"}, old.tree())
		id := strconv.FormatInt(old.ID, 10)

		out, errOut, code := in.attune("execution", "rerun", id, "--tasks", "two,three")
		require.Equal(t, 2, code, "%s %s", out, errOut)
		require.Contains(t, errOut, "task three never ran in workflow "+id+", so it has no context to re-run from (the tasks that ran: one, two); nothing was run")

		require.NoError(t, os.WriteFile(filepath.Join(dir, "ready"), nil, 0o644))
		out, errOut, code = in.attune("execution", "rerun", id, "--tasks", "two", "--json")
		require.Equal(t, 0, code, "%s %s", out, errOut)
		var r struct {
			ID      int64 `json:"id"`
			RerunOf int64 `json:"rerun_of"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &r))
		require.Equal(t, old.ID, r.RerunOf)
		x := in.getWorkflow(r.ID)
		require.Equal(t, "completed", x.Status)
		require.Equal(t, map[string]any{"b": "A-fixed"}, x.Result["output"], "two ran with the context one had published")
		require.Equal(t, []string{"two#0:succeeded:1", "three#0:succeeded:1"}, x.tree(), "one did not run again")
		ran, err := os.ReadFile(filepath.Join(dir, "one-ran"))
		require.NoError(t, err)
		require.Equal(t, "x\n", string(ran))
	})
	require.Equal(t, 0, stop(), "logs:\n%s", logs)
}
