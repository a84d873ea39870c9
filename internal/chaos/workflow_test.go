package chaos_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A replica killed mid-workflow loses nothing: kill -9 the worker running two tasks of one
// workflow. The reaper abandons both children; the conductor counts them failed. The task with a
// retry runs again on the surviving worker and succeeds; the other one's failure is handled by
// its `when: <% failed() %>` transition. The workflow completes, and every task ran as its rules
// say, no more.
func TestWorkflowWorkerCrash(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	c.start("wf-ctl", "timers,rules")
	w1 := c.start("wf-w1", "workers")
	c.waitReady("wf-ctl", "wf-w1")
	marks := marksDir(t)
	nap := func(name string) string {
		// The first run sleeps (and is killed with its worker); a later one reports "again".
		return `core.local cmd="echo x >> runs-` + name + `; test -e ` + name + ` && echo again || { touch ` + name +
			`; echo $$ > ` + name + `.pid; sleep 60; }" cwd=` + marks + ` timeout=120`
	}
	c.registerPack(map[string]string{
		"pack.yaml":       "ref: chaoswf\nversion: 1.0.0\n",
		"actions/wf.yaml": "ref: wf\nrunner_type: orquesta\nentry_point: workflows/wf.yaml\n",
		"actions/workflows/wf.yaml": `version: 1.0
output:
  - retried: <% ctx().retried %>
  - handled: <% ctx().handled %>
tasks:
  fork:
    action: core.noop
    next:
      - do: retried, unretried
  retried:
    action: ` + nap("retried") + `
    retry:
      count: 1
    next:
      - when: <% succeeded() %>
        publish: retried=<% result().stdout %>
        do: join
  unretried:
    action: ` + nap("unretried") + `
    next:
      - when: <% failed() %>
        publish: handled=yes
        do: recover
  recover:
    action: core.noop
    next:
      - do: join
  join:
    join: all
    action: core.noop
`,
	})

	c.runBackground("chaoswf.wf")
	var wf int64
	require.Eventually(t, func() bool {
		return c.db().QueryRow(context.Background(), `SELECT id FROM attune.execution WHERE action_ref = 'chaoswf.wf'`).Scan(&wf) == nil
	}, 30*time.Second, 50*time.Millisecond, "the workflow never started")
	require.Eventually(t, func() bool {
		return c.scalar(`SELECT count(*) FROM attune.execution WHERE parent_id = $1 AND task IN ('retried', 'unretried')
			AND status = 'running' AND worker = 'wf-w1'`, wf) == 2
	}, 30*time.Second, 50*time.Millisecond, "both naps never ran on wf-w1")
	pids := []int{readPID(t, filepath.Join(marks, "retried.pid")), readPID(t, filepath.Join(marks, "unretried.pid"))}
	c.start("wf-w2", "workers") // takes the retry

	killed := time.Now()
	w1.kill9()
	require.Eventually(t, func() bool { st, _ := c.status(wf); return st == "completed" || st == "failed" }, 60*time.Second, 100*time.Millisecond,
		"the workflow never finished")
	recover := time.Since(killed)
	st, errText := c.status(wf)
	require.Equal(t, "completed", st, errText)
	for _, pid := range pids {
		require.False(t, alive(pid), "the naps died with their worker")
	}

	// The children, as the conductor recorded them.
	rows, err := c.db().Query(context.Background(), `SELECT task, task_retry, status, coalesce(worker, '') FROM attune.execution
		WHERE parent_id = $1 ORDER BY id`, wf)
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var task, status, worker string
		var retry int
		require.NoError(t, rows.Scan(&task, &retry, &status, &worker))
		if status != "completed" || task == "retried" {
			task += "/" + status + "@" + worker
		}
		got = append(got, strings.Join([]string{task, string(rune('0' + retry))}, " retry "))
	}
	require.NoError(t, rows.Err())
	require.ElementsMatch(t, []string{"fork retry 0", "retried/abandoned@wf-w1 retry 0", "unretried/abandoned@wf-w1 retry 0",
		"retried/completed@wf-w2 retry 1", "recover retry 0", "join retry 0"}, got)
	var output string
	require.NoError(t, c.db().QueryRow(context.Background(), `SELECT result->>'output' FROM attune.execution WHERE id = $1`, wf).Scan(&output))
	require.JSONEq(t, `{"retried": "again", "handled": "yes"}`, output)
	for name, want := range map[string]int{"retried": 2, "unretried": 1} {
		runs, err := os.ReadFile(filepath.Join(marks, "runs-"+name))
		require.NoError(t, err)
		require.Equal(t, want, strings.Count(string(runs), "\n"), "%s ran %q", name, runs)
	}
	record(row{scenario: "9 worker kill -9 mid-workflow", expected: 1, seen: 1, completed: 1, recover: recover,
		note: "both running tasks abandoned; retry: ran again on wf-w2, when: failed() handled the other; workflow completed"})
}
