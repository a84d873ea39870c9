package jobs_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/packs"
)

// attempts waits until the execution's chain has n terminal attempts and no more appear.
func attempts(t *testing.T, e *attunetest.Env, id int64, n int) []attune.Execution {
	t.Helper()
	var xs []attune.Execution
	require.Eventually(t, func() bool {
		var err error
		xs, err = e.DB.AutoCommit().ExecutionAttempts(context.Background(), id)
		require.NoError(t, err)
		if len(xs) != n {
			return false
		}
		for _, x := range xs {
			if !x.Status.Terminal() {
				return false
			}
		}
		return true
	}, 15*time.Second, 20*time.Millisecond)
	return xs
}

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	flag := filepath.Join(t.TempDir(), "second-time")
	dir := attunetest.WritePack(t, map[string]string{
		"pack.yaml": "ref: retry\nversion: 1.0.0\n",
		"actions/always_fails.yaml": "ref: always_fails\nentry_point: fail.sh\n" +
			"retry: {count: 2, delay: 0.2, backoff: exponential, on: [failed]}\n",
		"actions/fail.sh":           "echo nope >&2\nexit 1\n",
		"actions/flaky.yaml":        "ref: flaky\nentry_point: flaky.sh\nretry: {count: 3, delay: 0}\n",
		"actions/flaky.sh":          "if [ -e '" + flag + "' ]; then echo ok; exit 0; fi\ntouch '" + flag + "'\nexit 1\n",
		"actions/no_policy.yaml":    "ref: no_policy\nentry_point: fail.sh\n",
		"actions/timeout_only.yaml": "ref: timeout_only\nentry_point: fail.sh\nretry: {count: 2, on: [timeout]}\n",
	})
	p, err := packs.LoadDir(dir, time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(ctx, p)
	require.NoError(t, err)

	x, err := e.P.Run(ctx, "retry.always_fails", nil, 0)
	require.NoError(t, err)
	xs := attempts(t, e, x.ID, 3)
	for i, a := range xs {
		require.Equal(t, i+1, a.Attempt)
		require.Equal(t, attune.StatusFailed, a.Status)
		require.Equal(t, "nope", a.Error)
		if i > 0 {
			require.Equal(t, x.ID, *a.OriginalID)
			require.GreaterOrEqual(t, a.StartedAt.Sub(*xs[i-1].FinishedAt), 150*time.Millisecond, "delay honoured")
		}
		// A completion job exists only for the attempts that are followed by a retry.
		require.Equal(t, map[bool]int{true: 1, false: 0}[i < 2], e.JobCount(t, jobs.KindExecutionComplete, a.ID), "attempt %d", a.Attempt)
		require.Equal(t, 1, e.JobCount(t, jobs.KindExecutionDispatch, a.ID))
	}
	time.Sleep(400 * time.Millisecond)
	xs, err = e.DB.AutoCommit().ExecutionAttempts(ctx, xs[2].ID)
	require.NoError(t, err)
	require.Len(t, xs, 3, "count: 2 means two retries, no more")

	x, err = e.P.Run(ctx, "retry.flaky", nil, 0)
	require.NoError(t, err)
	xs = attempts(t, e, x.ID, 2)
	require.Equal(t, []attune.ExecutionStatus{attune.StatusFailed, attune.StatusCompleted}, []attune.ExecutionStatus{xs[0].Status, xs[1].Status})

	for _, ref := range []string{"retry.no_policy", "retry.timeout_only"} {
		x, err = e.P.Run(ctx, ref, nil, 0)
		require.NoError(t, err)
		e.WaitTerminal(t, x.ID, 10*time.Second)
		time.Sleep(300 * time.Millisecond)
		xs, err = e.DB.AutoCommit().ExecutionAttempts(ctx, x.ID)
		require.NoError(t, err)
		require.Len(t, xs, 1, "%s is not retried", ref)
	}
}

// A running execution whose worker went silent is abandoned, with the worker named, and is
// not run again.
func TestReapAbandonsExecutionsOfSilentWorkers(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	ctx := context.Background()
	x, err := e.P.Run(ctx, "core.noop", nil, 0)
	require.NoError(t, err)
	_, err = e.DB.AutoCommit().ExecutionStart(ctx, x.ID, "ghost-1")
	require.NoError(t, err)

	n, err := e.P.Reap(ctx, time.Minute)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	x, err = e.DB.AutoCommit().Execution(ctx, x.ID)
	require.NoError(t, err)
	require.Equal(t, attune.StatusAbandoned, x.Status)
	require.Contains(t, x.Error, "ghost-1")
	require.Zero(t, e.JobCount(t, jobs.KindExecutionComplete, x.ID), "core.noop has no retry policy: nothing follows")

	n, err = e.P.Reap(ctx, time.Minute)
	require.NoError(t, err)
	require.Zero(t, n, "already abandoned")
}

func TestRetryPolicyNext(t *testing.T) {
	t.Parallel()
	p := &attune.RetryPolicy{Count: 3, Delay: time.Second, Backoff: attune.BackoffExponential}
	for _, tc := range []struct {
		attempt int
		status  attune.ExecutionStatus
		delay   time.Duration
		ok      bool
	}{
		{1, attune.StatusFailed, time.Second, true},
		{2, attune.StatusTimeout, 2 * time.Second, true},
		{3, attune.StatusAbandoned, 4 * time.Second, true},
		{4, attune.StatusFailed, 0, false},
		{1, attune.StatusCompleted, 0, false},
		{1, attune.StatusCancelled, 0, false},
	} {
		d, ok := p.Next(tc.attempt, tc.status)
		require.Equal(t, tc.ok, ok, "%+v", tc)
		require.Equal(t, tc.delay, d, "%+v", tc)
	}
	var none *attune.RetryPolicy
	_, ok := none.Next(1, attune.StatusFailed)
	require.False(t, ok)
}

// A cancelled attempt is never retried, even by a policy that (past pack validation) lists it.
func TestRetryPolicyNeverRetriesCancelled(t *testing.T) {
	t.Parallel()
	p := &attune.RetryPolicy{Count: 3, On: []attune.ExecutionStatus{attune.StatusCancelled, attune.StatusFailed}}
	_, ok := p.Next(1, attune.StatusCancelled)
	require.False(t, ok)
	_, ok = p.Next(1, attune.StatusFailed)
	require.True(t, ok)
}
