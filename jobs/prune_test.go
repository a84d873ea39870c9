package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/attunetest"
)

// History past retention is deleted in batches; what is recent, or still running, stays.
func TestPruneDeletesOldHistoryInBatches(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()

	var old []int64
	for range 5 {
		x, err := e.P.Run(ctx, "core.noop", nil, 0)
		require.NoError(t, err)
		old = append(old, e.WaitTerminal(t, x.ID, 10*time.Second).ID)
	}
	fresh, err := e.P.Run(ctx, "core.noop", nil, 0)
	require.NoError(t, err)
	e.WaitTerminal(t, fresh.ID, 10*time.Second)
	ev, err := e.DB.AutoCommit().EventInsert(ctx, db.NewEvent{TriggerRef: "core.intervaltimer", Payload: map[string]any{}})
	require.NoError(t, err)
	stuck, err := e.P.Run(ctx, "core.noop", nil, 0) // will be made old and left running
	require.NoError(t, err)
	e.WaitTerminal(t, stuck.ID, 10*time.Second)

	_, err = e.DB.Pool.Exec(ctx, `UPDATE attune.execution SET created_at = now() - interval '40 days' WHERE id = ANY($1) OR id = $2`, old, stuck.ID)
	require.NoError(t, err)
	_, err = e.DB.Pool.Exec(ctx, `UPDATE attune.execution SET status = 'running' WHERE id = $1`, stuck.ID)
	require.NoError(t, err)
	_, err = e.DB.Pool.Exec(ctx, `UPDATE attune.event SET created_at = now() - interval '40 days' WHERE id = $1`, ev.ID)
	require.NoError(t, err)

	res, err := e.DB.Prune(ctx, time.Now().Add(-30*24*time.Hour), 2) // batches of 2: several statements
	require.NoError(t, err)
	require.Equal(t, int64(5), res.Executions)
	require.Equal(t, int64(1), res.Events)
	for _, id := range old {
		_, err := e.DB.AutoCommit().Execution(ctx, id)
		require.ErrorIs(t, err, attune.ErrNotFound)
	}
	for _, id := range []int64{fresh.ID, stuck.ID} {
		_, err := e.DB.AutoCommit().Execution(ctx, id)
		require.NoError(t, err, "recent and unfinished executions stay")
	}
	var hist int
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM attune.execution_history WHERE execution_id = ANY($1)`, old).Scan(&hist))
	require.Zero(t, hist, "their history goes with them")
}

// An execution's live output goes with it when it is pruned.
func TestPruneDeletesLiveOutputWithItsExecution(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	x, err := e.P.Run(ctx, "core.echo", map[string]any{"message": "hi"}, 0)
	require.NoError(t, err)
	e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, 1, countRows(t, e, "execution_output"), "core.echo's output stored")

	_, err = e.DB.Pool.Exec(ctx, `UPDATE attune.execution SET created_at = now() - interval '40 days' WHERE id = $1`, x.ID)
	require.NoError(t, err)
	_, err = e.DB.Prune(ctx, time.Now().Add(-30*24*time.Hour), 100)
	require.NoError(t, err)
	require.Zero(t, countRows(t, e, "execution_output"))
}
