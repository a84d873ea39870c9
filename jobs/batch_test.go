package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/jobs"
)

// transactionsOf counts the transactions that wrote an execution's status changes after the
// first (scheduled -> running and on): the distinct xmin of its history rows.
func transactionsOf(t *testing.T, e *attunetest.Env, id int64) int {
	t.Helper()
	var n int
	require.NoError(t, e.DB.Pool.QueryRow(context.Background(), `SELECT count(DISTINCT xmin::text)
		FROM attune.execution_history WHERE execution_id = $1 AND from_status IS NOT NULL`, id).Scan(&n))
	return n
}

// core.noop cannot block, so its worker claims, runs and finishes it in one transaction: its two
// status changes commit together, each with its history row, through the dispatch job.
func TestNoopClaimedRunAndFinishedInOneTransaction(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()

	x, err := e.P.Run(ctx, "core.noop", map[string]any{"message": "one"}, 0)
	require.NoError(t, err)
	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, "test-worker", x.Worker)
	hist, err := e.DB.AutoCommit().History(ctx, x.ID)
	require.NoError(t, err)
	require.Len(t, hist, 3, "scheduled, running, completed: one history row per status change")
	require.Equal(t, 1, transactionsOf(t, e, x.ID), "claim and finish in one transaction")

	// A shell action is run outside the transaction: its claim commits before it runs.
	y, err := e.P.Run(ctx, "core.echo", map[string]any{"message": "two"}, 0)
	require.NoError(t, err)
	y = e.WaitTerminal(t, y.ID, 10*time.Second)
	require.Equal(t, attune.StatusCompleted, y.Status, y.Error)
	require.Equal(t, 2, transactionsOf(t, e, y.ID))
}

// Events whose processing jobs are fetched together are processed in shared transactions (group
// commit): fewer transactions than events, each event enforced once, each execution with one
// history row per status change. Every job delivered again (by hand, past uniqueness) finds
// its work done, batched again: nothing is recorded twice.
func TestEventsProcessedInSharedTransactions(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	e.P.BatchPatienceForTest(time.Hour)
	ctx := context.Background()
	registerBombPack(t, e, map[string]string{"fine": "ref: fine\ntrigger_ref: alert\naction_ref: show\naction_params: {text: ok}\n"})
	const n = 40
	var events []int64
	for i := range n {
		ev, err := e.P.EmitEvent(ctx, db.NewEvent{TriggerRef: "bomb.alert", Payload: map[string]any{"i": i}})
		require.NoError(t, err)
		events = append(events, ev.ID)
	}
	require.NoError(t, e.River.Start(ctx))
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.River.Stop(sctx)
	})
	executions := func() []attune.Execution {
		var xs []attune.Execution
		for _, id := range events {
			got, err := e.DB.AutoCommit().ExecutionsByEvent(ctx, id)
			require.NoError(t, err)
			xs = append(xs, got...)
		}
		return xs
	}
	var xs []attune.Execution
	require.Eventually(t, func() bool { xs = executions(); return len(xs) == n }, 20*time.Second, 20*time.Millisecond)
	for _, x := range xs {
		require.Equal(t, attune.StatusCompleted, e.WaitTerminal(t, x.ID, 10*time.Second).Status)
	}

	var txs int
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT count(DISTINCT xmin::text) FROM attune.enforcement
		WHERE event_id = ANY($1)`, events).Scan(&txs))
	t.Logf("%d events enforced in %d transactions", n, txs)
	require.LessOrEqual(t, txs, n*3/4, "events fetched together share transactions")

	counts := func() (enforcements, execs, history int) {
		require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM attune.enforcement WHERE event_id = ANY($1)),
			(SELECT count(*) FROM attune.execution x JOIN attune.enforcement n ON n.id = x.enforcement_id WHERE n.event_id = ANY($1)),
			(SELECT count(*) FROM attune.execution_history h JOIN attune.execution x ON x.id = h.execution_id
				JOIN attune.enforcement n ON n.id = x.enforcement_id WHERE n.event_id = ANY($1))`, events).
			Scan(&enforcements, &execs, &history))
		return
	}
	enf, ex, hist := counts()
	require.Equal(t, []int{n, n, 3 * n}, []int{enf, ex, hist}, "one enforcement, one execution, three history rows per event")

	// Deliver every event and dispatch job again, together, as a redelivery would.
	var again []river.InsertManyParams
	for i, id := range events {
		again = append(again,
			river.InsertManyParams{Args: jobs.EventProcessArgs{EventID: id}, InsertOpts: &river.InsertOpts{Queue: jobs.QueueEvents, MaxAttempts: 1}},
			river.InsertManyParams{Args: jobs.ExecutionDispatchArgs{ExecutionID: xs[i].ID},
				InsertOpts: &river.InsertOpts{Queue: jobs.RuntimeQueue(attune.RuntimeNoop), MaxAttempts: 1}})
	}
	res, err := e.River.InsertMany(ctx, again)
	require.NoError(t, err)
	for _, r := range res {
		require.Eventually(t, func() bool {
			j, err := e.River.JobGet(ctx, r.Job.ID)
			require.NoError(t, err)
			require.NotEqual(t, rivertype.JobStateDiscarded, j.State, "%s: %v", j.Kind, j.Errors)
			return j.State == rivertype.JobStateCompleted
		}, 10*time.Second, 20*time.Millisecond)
	}
	enf, ex, hist = counts()
	require.Equal(t, []int{n, n, 3 * n}, []int{enf, ex, hist}, "redelivered: nothing recorded twice")
}
