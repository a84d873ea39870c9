package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/pgtest"
)

// attune status's WAITING table counts only jobs that are due: a retryable job waiting for its
// next attempt is not, and counting it showed a negative age.
func TestOldestPendingJobsAreDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "", nil)
	d, err := db.Open(ctx, url, db.Options{MaxConns: 4})
	require.NoError(t, err)
	defer d.Close()
	_, err = db.Migrate(ctx, d.Pool, nil)
	require.NoError(t, err)
	_, err = d.Pool.Exec(ctx, `INSERT INTO river_job (kind, queue, state, args, max_attempts, scheduled_at) VALUES
		('k', 'q', 'retryable', '{}', 5, now() + interval '10 minutes'),
		('k', 'q', 'available', '{}', 5, now() - interval '2 seconds'),
		('k', 'q', 'scheduled', '{}', 5, now() + interval '1 hour')`)
	require.NoError(t, err)
	jobs, err := d.AutoCommit().OldestPendingJobs(ctx)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	require.Equal(t, int64(1), jobs[0].Count, "only the available job is due")
	require.Positive(t, time.Since(jobs[0].Oldest))
}
