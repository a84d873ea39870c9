package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/internal/attunetest"
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
