package db_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/db/internal/dbsqlc"
	"github.com/attune-run/attune/internal/pgtest"
)

// Every hot statement prepares on a migrated database: a query change that breaks one fails
// here, not as a statement quietly left unprepared in production.
func TestHotStatementsPrepare(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openMigrated(t)
	conn, err := d.Pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	for _, st := range dbsqlc.Hot {
		_, err := conn.Conn().Prepare(ctx, "test_"+st.Name, st.SQL)
		require.NoError(t, err, "prepare %s", st.Name)
	}
}

// A connection has the hot statements prepared, and their generic plans made
// (force_generic_plan, attune's default), before its first use: one opened before the
// migrations made their tables (Open warms the pool first, Migrate runs next) as well as one the
// pool opens later. Queries then run them with that plan.
func TestFreshConnectionHasHotStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "", nil)
	opts := db.Options{MaxConns: 2, MinConns: 2, PlanCacheMode: "force_generic_plan"}
	d, err := db.Open(ctx, url, opts)
	require.NoError(t, err)
	defer d.Close()
	_, err = db.Migrate(ctx, d.Pool, nil)
	require.NoError(t, err)
	requireHotPrepared(t, d.Pool, "a connection opened before the migrations")

	later, err := db.Open(ctx, url, opts)
	require.NoError(t, err)
	defer later.Close()
	requireHotPrepared(t, later.Pool, "a connection opened on the migrated database")

	conn, err := later.Pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	err = db.InTxOn(ctx, conn, func(q *db.Queries) error {
		_, err := q.Event(ctx, 1)
		return err
	})
	require.ErrorIs(t, err, attune.ErrNotFound)
	var name string
	var generic, custom int64
	require.NoError(t, conn.QueryRow(ctx,
		`SELECT name, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1`,
		dbsqlc.EventGetSQL).Scan(&name, &generic, &custom))
	require.NotContains(t, name, "stmtcache_", "pgx prepared EventGet again in its statement cache")
	require.Equal(t, []int64{2, 0}, []int64{generic, custom}, "EventGet planned at connect, then run once with that generic plan")
}

// requireHotPrepared checks that each of the pool's connections has every hot statement
// prepared.
func requireHotPrepared(t *testing.T, pool *pgxpool.Pool, which string) {
	t.Helper()
	ctx := context.Background()
	conns := pool.AcquireAllIdle(ctx)
	require.NotEmpty(t, conns)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for _, c := range conns {
		rows, err := c.Query(ctx, `SELECT statement, generic_plans FROM pg_prepared_statements`)
		require.NoError(t, err)
		prepared := map[string]int64{} // generic plans made, by statement
		for rows.Next() {
			var sql string
			var generic int64
			require.NoError(t, rows.Scan(&sql, &generic))
			prepared[sql] = generic
		}
		require.NoError(t, rows.Err())
		for _, st := range dbsqlc.Hot {
			generic, ok := prepared[st.SQL]
			require.True(t, ok, "%s: %s is not prepared", which, st.Name)
			require.EqualValues(t, 1, generic, "%s: %s has no generic plan yet", which, st.Name)
		}
	}
}
