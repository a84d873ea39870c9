package db_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Replicas that boot together migrate once, and a later boot finds nothing to do.
func TestMigrateConcurrentlyThenAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "", nil)
	d, err := db.Open(ctx, url, db.Options{MaxConns: 10})
	require.NoError(t, err)
	defer d.Close()

	var wg sync.WaitGroup
	errs := make([]error, 3)
	applied := make([][]string, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			applied[i], errs[i] = db.Migrate(ctx, d.Pool, nil)
		}()
	}
	wg.Wait()
	total := 0
	for i := range 3 {
		require.NoError(t, errs[i])
		total += len(applied[i])
	}
	require.NotZero(t, total)

	again, err := db.Migrate(ctx, d.Pool, nil)
	require.NoError(t, err)
	require.Empty(t, again)

	st, err := db.MigrationStatus(ctx, d.Pool)
	require.NoError(t, err)
	for _, m := range st {
		require.True(t, m.Applied, "%s %d %s", m.Owner, m.Version, m.Name)
	}
	var n int
	require.NoError(t, d.Pool.QueryRow(ctx, "SELECT count(*) FROM river_job").Scan(&n), "river_job without a schema prefix")
}
