package jobs_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/jobs"
)

// cancelPack has actions that run until stopped: one traps SIGTERM and exits gracefully, one
// ignores it. Both have a retry policy, which a cancel must not trigger.
var cancelPack = map[string]string{
	"pack.yaml": "ref: stop\nversion: 1.0.0\n",
	"actions/graceful.yaml": "ref: graceful\nentry_point: graceful.sh\nretry: {count: 2, delay: 0}\n" +
		"parameters:\n  dir: {type: string}\n",
	"actions/graceful.sh": "trap 'echo got TERM; exit 0' TERM\necho started\nwhile :; do sleep 0.05; done\n",
	"actions/stubborn.yaml": "ref: stubborn\nentry_point: stubborn.sh\nretry: {count: 2, delay: 0}\n" +
		"parameters:\n  dir: {type: string}\n",
	"actions/stubborn.sh": "trap '' TERM\necho started\nwhile :; do sleep 0.05; done\n",
	"actions/marker.yaml": "ref: marker\nentry_point: marker.sh\nparameter_format: dotenv\n" +
		"parameters:\n  dir: {type: string, required: true}\n",
	"actions/marker.sh": "eval \"$(cat)\"\ntouch \"$dir/ran\"\n",
}

// waitOutput waits until the stored live output of an execution contains want.
func waitOutput(t *testing.T, e *attunetest.Env, id int64, want string) string {
	t.Helper()
	var all string
	require.Eventually(t, func() bool {
		all = outputText(t, e, id, "")
		return strings.Contains(all, want)
	}, 15*time.Second, 20*time.Millisecond, "output of execution %d never showed %q", id, want)
	return all
}

// outputText is the stored output of an execution, of one stream or ("") both, in order.
func outputText(t *testing.T, e *attunetest.Env, id int64, stream string) string {
	t.Helper()
	chunks, err := e.DB.AutoCommit().OutputSince(context.Background(), id, 0, 10000)
	require.NoError(t, err)
	var b strings.Builder
	for _, c := range chunks {
		if stream == "" || c.Stream == stream {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// A running action is cancelled from another replica, which shares nothing in memory with the
// one running it: the worker hears of it, signals the action's process group and records
// cancelled with who asked. An action that traps SIGTERM exits gracefully; one that ignores it
// is killed after the kill grace. Neither is retried, although both have a retry policy.
func TestCancelRunningFromAnotherReplica(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerPack(t, e, cancelPack)
	other := e.Replica(t, "replica-b")

	for _, tc := range []struct {
		action, stdout string
	}{
		{"stop.graceful", "started\ngot TERM\n"},
		{"stop.stubborn", "started\n"},
	} {
		t.Run(tc.action, func(t *testing.T) {
			x, err := e.P.Run(ctx, tc.action, nil, 0)
			require.NoError(t, err)
			waitOutput(t, e, x.ID, "started") // running, its trap set

			got, err := other.Cancel(ctx, x.ID, "cli:tester")
			require.NoError(t, err)
			require.Equal(t, attune.StatusCanceling, got.Status)

			x = e.WaitTerminal(t, x.ID, 15*time.Second)
			require.Equal(t, attune.StatusCancelled, x.Status)
			require.Equal(t, "cancelled by cli:tester", x.Error)
			require.Equal(t, "test-worker", x.Worker, "run by the first replica")
			require.Equal(t, tc.stdout, result(t, x)["stdout"])

			hist, err := e.DB.AutoCommit().History(ctx, x.ID)
			require.NoError(t, err)
			var path []string
			for _, h := range hist {
				path = append(path, string(h.To))
			}
			require.Equal(t, []string{"scheduled", "running", "canceling", "cancelled"}, path)
			require.Equal(t, "cancelled by cli:tester", hist[2].Reason)

			// A cancelled execution has no follow-up: no completion job, and no retry.
			require.Zero(t, e.JobCount(t, jobs.KindExecutionComplete, x.ID))
			time.Sleep(300 * time.Millisecond)
			xs, err := e.DB.AutoCommit().ExecutionAttempts(ctx, x.ID)
			require.NoError(t, err)
			require.Len(t, xs, 1, "a cancelled execution is not retried")
		})
	}
}

// A scheduled execution is cancelled at once, with its dispatch job, in one transaction: the
// action never runs, even once workers start.
func TestCancelScheduledCancelsItsDispatchJob(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	ctx := context.Background()
	registerPack(t, e, cancelPack)
	dir := t.TempDir()

	x, err := e.P.Run(ctx, "stop.marker", map[string]any{"dir": dir}, 0)
	require.NoError(t, err)
	require.Equal(t, attune.StatusScheduled, x.Status)
	got, err := e.Replica(t, "cli").Cancel(ctx, x.ID, "cli:tester")
	require.NoError(t, err)
	require.Equal(t, attune.StatusCancelled, got.Status)
	require.Equal(t, "cancelled by cli:tester", got.Error)

	var state string
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT state FROM river_job WHERE kind = $1 AND (args->>'execution_id')::bigint = $2`,
		jobs.KindExecutionDispatch, x.ID).Scan(&state))
	require.Equal(t, "cancelled", state)

	require.NoError(t, e.River.Start(ctx))
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.River.Stop(sctx)
	})
	// A later execution of the same action runs: the workers are up and would have run the first.
	later, err := e.P.Run(ctx, "stop.marker", map[string]any{"dir": t.TempDir()}, 0)
	require.NoError(t, err)
	require.Equal(t, attune.StatusCompleted, e.WaitTerminal(t, later.ID, 10*time.Second).Status)
	_, err = os.Stat(filepath.Join(dir, "ran"))
	require.ErrorIs(t, err, os.ErrNotExist, "the cancelled action never ran")
	x, err = e.DB.AutoCommit().Execution(ctx, x.ID)
	require.NoError(t, err)
	require.Equal(t, attune.StatusCancelled, x.Status)
}

// Cancelling a finished execution says it already completed and changes nothing.
func TestCancelCompletedIsAConflict(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	x, err := e.P.Run(ctx, "core.noop", nil, 0)
	require.NoError(t, err)
	e.WaitTerminal(t, x.ID, 10*time.Second)

	_, err = e.P.Cancel(ctx, x.ID, "cli:tester")
	require.ErrorIs(t, err, attune.ErrConflict)
	var fin *jobs.FinishedError
	require.ErrorAs(t, err, &fin)
	require.Contains(t, err.Error(), "already completed (completed)")
	x, err = e.DB.AutoCommit().Execution(ctx, x.ID)
	require.NoError(t, err)
	require.Equal(t, attune.StatusCompleted, x.Status)

	_, err = e.P.Cancel(ctx, 999999, "cli:tester")
	require.ErrorIs(t, err, attune.ErrNotFound)
}

// An execution someone asked to cancel whose worker then went silent ends cancelled (its action
// died with the worker, as asked), not abandoned, so no retry policy runs it again.
func TestReapCancelsCancelingExecutionsOfSilentWorkers(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	ctx := context.Background()
	x, err := e.P.Run(ctx, "core.noop", nil, 0)
	require.NoError(t, err)
	_, err = e.DB.AutoCommit().ExecutionStart(ctx, x.ID, "ghost-1")
	require.NoError(t, err)
	_, err = e.P.Cancel(ctx, x.ID, "cli:tester")
	require.NoError(t, err)

	n, err := e.P.Reap(ctx, time.Minute)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	x, err = e.DB.AutoCommit().Execution(ctx, x.ID)
	require.NoError(t, err)
	require.Equal(t, attune.StatusCancelled, x.Status)
	require.Contains(t, x.Error, "cancelled by cli:tester")
	require.Contains(t, x.Error, "ghost-1")
}

// An in-process action (core.http_request) is cancelled through its context: the request is
// abandoned and the execution recorded cancelled.
func TestCancelRunningHTTPAction(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	reached := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached <- struct{}{}
		<-r.Context().Done() // answers only when the client goes away
	}))
	t.Cleanup(srv.Close)

	x, err := e.P.Run(ctx, "core.http_request", map[string]any{"url": srv.URL}, 0)
	require.NoError(t, err)
	select {
	case <-reached:
	case <-time.After(15 * time.Second):
		t.Fatal("the request never reached the server")
	}
	_, err = e.Replica(t, "api").Cancel(ctx, x.ID, "api:deploybot")
	require.NoError(t, err)
	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusCancelled, x.Status)
	require.Equal(t, "cancelled by api:deploybot", x.Error)
}

// Without notifications (a LISTEN connection that dropped), the worker's poll still finds the
// cancel request and stops the action.
func TestCancelReachesTheWorkerByPollAlone(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoListen: true})
	ctx := context.Background()
	registerPack(t, e, cancelPack)

	x, err := e.P.Run(ctx, "stop.graceful", nil, 0)
	require.NoError(t, err)
	waitOutput(t, e, x.ID, "started")
	_, err = e.Replica(t, "replica-b").Cancel(ctx, x.ID, "cli:tester")
	require.NoError(t, err)
	x = e.WaitTerminal(t, x.ID, 15*time.Second)
	require.Equal(t, attune.StatusCancelled, x.Status)
	require.Equal(t, "started\ngot TERM\n", result(t, x)["stdout"])
}
