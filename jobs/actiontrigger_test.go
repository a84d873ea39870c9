package jobs_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/jobs"
)

// onFailurePack has a failing action, a succeeding one, and a rule in StackStorm's own shape:
// when on.fail fails, run on.notify with the failed execution's id and error.
var onFailurePack = map[string]string{
	"pack.yaml":           "ref: on\nname: on\nversion: 0.1.0\n",
	"actions/fail.yaml":   "ref: fail\nrunner_type: shell\nentry_point: fail.sh\nretry: {count: 1, delay: 0, on: [failed]}\n",
	"actions/fail.sh":     "echo 'disk full' >&2\nexit 3\n",
	"actions/ok.yaml":     "ref: ok\nrunner_type: noop\n",
	"actions/notify.yaml": "ref: notify\nrunner_type: noop\nparameters: {failed: {type: integer}, why: {type: string}, attempt: {type: integer}}\n",
	"rules/notify_on_failure.yaml": `---
name: notify_on_failure
pack: on
enabled: true
trigger:
  type: core.st2.generic.actiontrigger
criteria:
  trigger.action_name: {type: equals, pattern: on.fail}
  trigger.status: {type: equals, pattern: failed}
action:
  ref: on.notify
  parameters:
    failed: "{{ trigger.execution_id }}"
    why: "{{ trigger.error }}"
    attempt: "{{ trigger.attempt }}"
`,
}

// notifications lists the on.notify executions, oldest first.
func notifications(t *testing.T, e *attunetest.Env) []attune.Execution {
	t.Helper()
	rows, err := e.DB.Pool.Query(context.Background(),
		`SELECT id, status, parameters, error FROM attune.execution WHERE action_ref = 'on.notify' ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	var xs []attune.Execution
	for rows.Next() {
		var x attune.Execution
		require.NoError(t, rows.Scan(&x.ID, &x.Status, &x.Parameters, &x.Error))
		xs = append(xs, x)
	}
	require.NoError(t, rows.Err())
	return xs
}

// "When X fails, run Y", written as StackStorm users write it: each failed attempt of on.fail
// emits core.st2.generic.actiontrigger with StackStorm's payload, the rule's criteria on
// trigger.action_name and trigger.status match it, and on.notify runs once per failed attempt.
// A succeeding action's end matches nothing. Each end is one event and one status job.
func TestActionTriggerRunsRuleWhenActionFails(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerST2(t, e, onFailurePack)

	ok, err := e.P.Run(ctx, "on.ok", nil, 0)
	require.NoError(t, err)
	e.WaitTerminal(t, ok.ID, 10*time.Second)
	x, err := e.P.Run(ctx, "on.fail", nil, 0)
	require.NoError(t, err)
	xs := attempts(t, e, x.ID, 2)

	var got []attune.Execution
	require.Eventually(t, func() bool {
		got = notifications(t, e)
		return len(got) == 2 && got[0].Status.Terminal() && got[1].Status.Terminal()
	}, 15*time.Second, 20*time.Millisecond)
	// Each attempt's end is its own event: the two may be processed in either order.
	slices.SortFunc(got, func(a, b attune.Execution) int {
		return cmp.Compare(fmt.Sprint(a.Parameters["attempt"]), fmt.Sprint(b.Parameters["attempt"]))
	})
	for i, n := range got {
		require.Equal(t, attune.StatusCompleted, n.Status, n.Error)
		require.Equal(t, float64(xs[i].ID), n.Parameters["failed"])
		require.Equal(t, "disk full", n.Parameters["why"])
		require.Equal(t, float64(i+1), n.Parameters["attempt"])
	}

	var payload map[string]any
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT payload FROM attune.event WHERE execution_id = $1 AND trigger_ref = $2`,
		xs[0].ID, attune.TriggerAction).Scan(&payload))
	require.Equal(t, float64(xs[0].ID), payload["execution_id"])
	require.Equal(t, "failed", payload["status"])
	require.Equal(t, "on.fail", payload["action_name"])
	require.Equal(t, "on.fail", payload["action_ref"])
	require.Equal(t, attune.RuntimeShell, payload["runner_ref"])
	require.Equal(t, map[string]any{}, payload["parameters"])
	require.Equal(t, float64(3), payload["result"].(map[string]any)["exit_code"])
	require.NotEmpty(t, payload["start_timestamp"])
	require.NotEmpty(t, payload["end_timestamp"])

	time.Sleep(300 * time.Millisecond) // a loop or a duplicate would show by now
	require.Len(t, notifications(t, e), 2)
	for _, id := range []int64{ok.ID, xs[0].ID, xs[1].ID} {
		require.Equal(t, 1, e.JobCount(t, jobs.KindExecutionStatus, id), "one status job per terminal execution")
		require.Equal(t, 1, countEvents(t, e, id), "one event per terminal execution")
	}
	// The notifications' own ends are announced too (a rule listens), and match nothing.
	for _, n := range got {
		require.Equal(t, 1, countEvents(t, e, n.ID))
	}
}

// countEvents counts the core.actiontrigger events of one execution.
func countEvents(t *testing.T, e *attunetest.Env, executionID int64) int {
	t.Helper()
	var n int
	require.NoError(t, e.DB.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM attune.event WHERE execution_id = $1`, executionID).Scan(&n))
	return n
}

// A rule that reacts to the end of its own action (no criteria at all) would loop forever, as
// it does in StackStorm. attune stops the chain: the event past attune.MaxActionTriggerDepth
// links is recorded with the reason and not processed, so the action ran once by hand plus once
// per link, and nothing more.
func TestActionTriggerLoopStops(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerST2(t, e, map[string]string{
		"pack.yaml":         "ref: loop\nversion: 0.1.0\n",
		"actions/ping.yaml": "ref: ping\nrunner_type: noop\n",
		"rules/again.yaml":  "ref: again\ntrigger_ref: core.actiontrigger\naction_ref: ping\n",
	})
	x, err := e.P.Run(ctx, "loop.ping", nil, 0)
	require.NoError(t, err)

	want := 1 + attune.MaxActionTriggerDepth
	count := func() (executions, events, stopped int) {
		require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM attune.execution WHERE action_ref = 'loop.ping'),
			(SELECT count(*) FROM attune.event WHERE trigger_ref = $1),
			(SELECT count(*) FROM attune.event WHERE trigger_ref = $1 AND processing_error <> '')`,
			attune.TriggerAction).Scan(&executions, &events, &stopped))
		return
	}
	require.Eventually(t, func() bool { _, _, stopped := count(); return stopped > 0 }, 30*time.Second, 50*time.Millisecond,
		"the chain never stopped")
	time.Sleep(500 * time.Millisecond) // anything still looping shows by now
	executions, events, stopped := count()
	require.Equal(t, want, executions, "one by hand, then one per link")
	require.Equal(t, want, events, "every execution's end is recorded")
	require.Equal(t, 1, stopped)

	var reason string
	var depth int
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT processing_error, depth FROM attune.event WHERE processing_error <> ''`).Scan(&reason, &depth))
	require.Equal(t, attune.MaxActionTriggerDepth+1, depth)
	require.Contains(t, reason, "reacts to the end of its own action")
	require.Equal(t, 1, e.JobCount(t, jobs.KindExecutionStatus, x.ID))
}

// Every step of the pipeline finds its work done when its job is delivered again (River
// completes jobs after the step's commit, so a crash in between redelivers it): a processed
// event, a recorded execution end, a scheduled retry and a timer fire are each redelivered by
// hand, and each job completes without recording anything twice. (A redelivered dispatch is
// TestDuplicateDispatchRunsActionOnce.)
func TestRedeliveredStepsFindTheirWorkDone(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerST2(t, e, onFailurePack)
	registerST2(t, e, map[string]string{
		"pack.yaml":         "ref: tick\nversion: 0.1.0\n",
		"rules/second.yaml": "ref: second\ntrigger_ref: core.intervaltimer\ntrigger_params: {interval: 1, unit: seconds}\naction_ref: core.noop\n",
	})
	x, err := e.P.Run(ctx, "on.fail", nil, 0)
	require.NoError(t, err)
	xs := attempts(t, e, x.ID, 2)
	require.Eventually(t, func() bool { return len(notifications(t, e)) == 2 }, 15*time.Second, 20*time.Millisecond)

	var eventID, timerID int64
	var firedAt time.Time
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT id FROM attune.event WHERE execution_id = $1`, xs[0].ID).Scan(&eventID))
	require.Eventually(t, func() bool {
		return e.DB.Pool.QueryRow(ctx, `SELECT timer_id, scheduled_at FROM attune.event WHERE timer_id IS NOT NULL ORDER BY id LIMIT 1`).
			Scan(&timerID, &firedAt) == nil
	}, 15*time.Second, 50*time.Millisecond)

	for _, job := range []struct {
		args  river.JobArgs
		queue string
	}{
		{jobs.EventProcessArgs{EventID: eventID}, jobs.QueueEvents},
		{jobs.ExecutionStatusArgs{ExecutionID: xs[0].ID, Status: string(xs[0].Status)}, jobs.QueueEvents},
		{jobs.ExecutionCompleteArgs{ExecutionID: xs[0].ID}, jobs.QueueEvents},
		{jobs.TimerFireArgs{TimerID: timerID, FireAt: firedAt}, jobs.QueueTimers},
	} {
		// Bypass uniqueness, as a redelivery would; one attempt, so a failure shows as discarded.
		res, err := e.River.Insert(ctx, job.args, &river.InsertOpts{Queue: job.queue, MaxAttempts: 1})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			j, err := e.River.JobGet(ctx, res.Job.ID)
			require.NoError(t, err)
			require.NotEqual(t, rivertype.JobStateDiscarded, j.State, "%s: %v", job.args.Kind(), j.Errors)
			return j.State == rivertype.JobStateCompleted
		}, 10*time.Second, 20*time.Millisecond, job.args.Kind())
	}
	time.Sleep(300 * time.Millisecond) // what a redelivery scheduled has run by now

	require.Len(t, notifications(t, e), 2, "event and status redelivered: no third notification")
	require.Equal(t, 1, countEvents(t, e, xs[0].ID), "status redelivered: one event per execution")
	var enforcements, retries, fires int
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM attune.enforcement WHERE event_id = $1),
		(SELECT count(*) FROM attune.execution WHERE original_id = $2),
		(SELECT count(*) FROM attune.event WHERE timer_id = $3 AND scheduled_at = $4)`,
		eventID, xs[0].ID, timerID, firedAt).Scan(&enforcements, &retries, &fires))
	require.Equal(t, 1, enforcements, "event redelivered: one enforcement per (rule, event)")
	require.Equal(t, 1, retries, "completion redelivered: one retry per attempt")
	require.Equal(t, 1, fires, "fire redelivered: one event per (timer, time)")
}
