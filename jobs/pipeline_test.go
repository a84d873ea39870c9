package jobs_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/internal/pgtest"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/packs"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func result(t *testing.T, x attune.Execution) map[string]any {
	t.Helper()
	var r map[string]any
	require.NoError(t, json.Unmarshal(x.Result, &r))
	return r
}

// The predecessor's known issue (c): core.echo runs on the shell runtime because its action
// record says so, not because of its file name.
func TestCoreEchoRunsOnShellRuntime(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()

	a, _, err := e.DB.AutoCommit().Action(ctx, "core.echo")
	require.NoError(t, err)
	require.Equal(t, attune.RuntimeShell, a.Runtime)

	x, err := e.P.Run(ctx, "core.echo", map[string]any{"message": "hi"}, 0)
	require.NoError(t, err)
	require.Equal(t, attune.RuntimeShell, x.Runtime)
	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, "hi\n", result(t, x)["stdout"])
	require.Equal(t, "test-worker", x.Worker)
}

// An action whose entry point is named like a Python file but whose record says shell is run
// by the shell, and a python action by python: the runtime comes from the record.
func TestRuntimeSelectedByRecordNotFileName(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	dir := attunetest.WritePack(t, map[string]string{
		"pack.yaml":                 "ref: rt\nversion: 1.0.0\n",
		"actions/looks_python.yaml": "ref: looks_python\nrunner_type: shell\nentry_point: script.py\n",
		"actions/script.py":         "echo \"shell ran me\"\n",
	})
	p, err := packs.LoadDir(dir, time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(ctx, p)
	require.NoError(t, err)

	x, err := e.P.Run(ctx, "rt.looks_python", nil, 0)
	require.NoError(t, err)
	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, "shell ran me\n", result(t, x)["stdout"])
}

// The predecessor's bug (a): completing an execution is followed by nothing when nothing
// consumes it: no status job (no rule listens on core.actiontrigger), no completion job (no
// retry policy), one dispatch job, one history row per transition, and nothing is re-processed.
func TestCompletionIsAnnouncedOnce(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()

	var ids []int64
	for i := 0; i < 5; i++ {
		x, err := e.P.Run(ctx, "core.noop", map[string]any{"message": "n"}, 0)
		require.NoError(t, err)
		ids = append(ids, x.ID)
	}
	for _, id := range ids {
		x := e.WaitTerminal(t, id, 10*time.Second)
		require.Equal(t, attune.StatusCompleted, x.Status)
	}
	// Let any follow-up run; a loop would keep adding jobs.
	time.Sleep(500 * time.Millisecond)
	for _, id := range ids {
		hist, err := e.DB.AutoCommit().History(ctx, id)
		require.NoError(t, err)
		require.Len(t, hist, 3, "scheduled, running, completed")
		require.Equal(t, 1, e.JobCount(t, jobs.KindExecutionDispatch, id))
		require.Zero(t, e.JobCount(t, jobs.KindExecutionComplete, id))
		require.Zero(t, e.JobCount(t, jobs.KindExecutionStatus, id))
	}
	var kinds int
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind IN ($1, $2)`,
		jobs.KindExecutionStatus, jobs.KindExecutionComplete).Scan(&kinds))
	require.Zero(t, kinds, "no status or completion job at all")
}

// The predecessor's bug (b): a dispatch job delivered twice runs the action once.
func TestDuplicateDispatchRunsActionOnce(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	ctx := context.Background()
	marker := filepath.Join(t.TempDir(), "runs")
	dir := attunetest.WritePack(t, map[string]string{
		"pack.yaml":          "ref: twice\nversion: 1.0.0\n",
		"actions/count.yaml": "ref: count\nrunner_type: shell\nentry_point: count.sh\n",
		"actions/count.sh":   "echo run >> \"" + marker + "\"\nsleep 0.3\n",
	})
	p, err := packs.LoadDir(dir, time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(ctx, p)
	require.NoError(t, err)

	x, err := e.P.Run(ctx, "twice.count", nil, 0)
	require.NoError(t, err)
	// Deliver the same dispatch again, bypassing uniqueness, as a redelivery would.
	for i := 0; i < 2; i++ {
		_, err = e.River.Insert(ctx, jobs.ExecutionDispatchArgs{ExecutionID: x.ID},
			&river.InsertOpts{Queue: jobs.RuntimeQueue(attune.RuntimeShell)})
		require.NoError(t, err)
	}
	require.Equal(t, 3, e.JobCount(t, jobs.KindExecutionDispatch, x.ID))
	require.NoError(t, e.River.Start(ctx))
	t.Cleanup(func() { _ = e.River.Stop(context.Background()) })

	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	time.Sleep(500 * time.Millisecond) // the duplicates have had time to run
	b, err := os.ReadFile(marker)
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(string(b), "run"), "the action ran once")
	require.Equal(t, 3, e.JobCount(t, jobs.KindExecutionDispatch, x.ID))
	require.Zero(t, e.JobCount(t, jobs.KindExecutionComplete, x.ID), "no retry policy: no completion job")
}

// An event on a trigger goes through its matching rules: criteria filter, parameters are
// rendered from the payload keeping their type, and one enforcement and execution per rule.
func TestEventThroughRules(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	dir := attunetest.WritePack(t, map[string]string{
		"pack.yaml":           "ref: ev\nversion: 1.0.0\n",
		"triggers/alert.yaml": "ref: alert\npayload:\n  level: {type: string}\n",
		"actions/show.yaml":   "ref: show\nrunner_type: noop\nparameters: {count: {type: integer}, text: {type: string}}\n",
		"rules/on_error.yaml": `ref: on_error
trigger_ref: alert
action_ref: show
criteria:
  - {field: level, operator: equals, value: error}
action_params:
  count: "{{ event.payload.count }}"
  text: "level={{ event.payload.level }} count={{ event.payload.count }}"
`,
		"rules/on_info.yaml": `ref: on_info
trigger_ref: alert
action_ref: show
criteria: [{field: level, operator: equals, value: info}]
`,
	})
	p, err := packs.LoadDir(dir, time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(ctx, p)
	require.NoError(t, err)

	ev, err := e.P.EmitEvent(ctx, db.NewEvent{TriggerRef: "ev.alert", Payload: map[string]any{"level": "error", "count": 4}})
	require.NoError(t, err)
	var xs []attune.Execution
	require.Eventually(t, func() bool {
		xs, err = e.DB.AutoCommit().ExecutionsByEvent(ctx, ev.ID)
		require.NoError(t, err)
		return len(xs) == 1 && xs[0].Status.Terminal()
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, "ev.show", xs[0].ActionRef)
	require.Equal(t, float64(4), xs[0].Parameters["count"], "a whole template keeps its JSON type")
	require.Equal(t, "level=error count=4", xs[0].Parameters["text"])
	enfs, err := e.DB.AutoCommit().EnforcementsByEvent(ctx, ev.ID)
	require.NoError(t, err)
	require.Len(t, enfs, 1)
	require.Equal(t, "ev.on_error", enfs[0].RuleRef)

	// Processing the same event again (a redelivery) creates nothing new.
	require.NoError(t, e.DB.InTx(ctx, func(q *db.Queries) error { return e.P.ProcessEvent(ctx, q, ev) }))
	xs, err = e.DB.AutoCommit().ExecutionsByEvent(ctx, ev.ID)
	require.NoError(t, err)
	require.Len(t, xs, 1)
}

// A failing action ends failed with its exit code and error line; a timeout ends timeout.
func TestFailureAndTimeout(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	dir := attunetest.WritePack(t, map[string]string{
		"pack.yaml":         "ref: bad\nversion: 1.0.0\n",
		"actions/fail.yaml": "ref: fail\nrunner_type: shell\nentry_point: fail.sh\n",
		"actions/fail.sh":   "echo 'disk full' >&2\nexit 3\n",
	})
	p, err := packs.LoadDir(dir, time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(ctx, p)
	require.NoError(t, err)

	x, err := e.P.Run(ctx, "bad.fail", nil, 0)
	require.NoError(t, err)
	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusFailed, x.Status)
	require.Equal(t, "disk full", x.Error)
	require.Equal(t, float64(3), result(t, x)["exit_code"])

	start := time.Now()
	x, err = e.P.Run(ctx, "core.sleep", map[string]any{"seconds": 30}, time.Second)
	require.NoError(t, err)
	require.Equal(t, 1, x.TimeoutSec)
	x = e.WaitTerminal(t, x.ID, 15*time.Second)
	require.Equal(t, attune.StatusTimeout, x.Status)
	require.Less(t, time.Since(start), 10*time.Second)
}

// An execution whose action was removed before a worker claimed it (its pack registered again
// without it) ends failed, saying so, instead of waiting in scheduled forever.
func TestExecutionOfRemovedActionFails(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	ctx := context.Background()
	files := map[string]string{
		"pack.yaml":         "ref: gone\nversion: 1.0.0\n",
		"actions/soon.yaml": "ref: soon\nrunner_type: noop\n",
		"actions/stay.yaml": "ref: stay\nrunner_type: noop\n",
	}
	p, err := packs.LoadDir(attunetest.WritePack(t, files), time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(ctx, p)
	require.NoError(t, err)
	x, err := e.P.Run(ctx, "gone.soon", nil, 0)
	require.NoError(t, err)

	delete(files, "actions/soon.yaml")
	p, err = packs.LoadDir(attunetest.WritePack(t, files), time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(ctx, p)
	require.NoError(t, err)
	require.NoError(t, e.River.Start(ctx))
	t.Cleanup(func() { _ = e.River.Stop(context.Background()) })

	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusFailed, x.Status)
	require.Contains(t, x.Error, "action gone.soon no longer exists")
	var hist int
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM attune.execution_history WHERE execution_id = $1`, x.ID).Scan(&hist))
	require.Equal(t, 2, hist, "scheduled, failed: it never ran")
}
