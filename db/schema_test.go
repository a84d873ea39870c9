package db_test

import (
	"context"
	"testing"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/pgtest"
)

// CheckSchema says what is missing without creating anything; ForeignTables counts another
// application's tables, but not River's, which a replica migrating next door creates first.
func TestCheckSchemaAndForeignTables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := db.Open(ctx, pgtest.NewDatabase(t, "", nil), db.Options{MaxConns: 4})
	require.NoError(t, err)
	defer d.Close()

	require.ErrorIs(t, db.CheckSchema(ctx, d.Pool), db.ErrSchemaNotReady)
	n, err := db.ForeignTables(ctx, d.Pool)
	require.NoError(t, err)
	require.Zero(t, n)

	rm, err := rivermigrate.New(riverpgxv5.New(d.Pool), &rivermigrate.Config{Schema: db.RiverSchema})
	require.NoError(t, err)
	_, err = rm.Migrate(ctx, rivermigrate.DirectionUp, nil)
	require.NoError(t, err)
	n, err = db.ForeignTables(ctx, d.Pool)
	require.NoError(t, err)
	require.Zero(t, n, "River's tables are not another application's")
	err = db.CheckSchema(ctx, d.Pool)
	require.ErrorIs(t, err, db.ErrSchemaNotReady)
	require.ErrorContains(t, err, "no attune schema")

	_, err = d.Pool.Exec(ctx, `CREATE TABLE orders (id int)`)
	require.NoError(t, err)
	n, err = db.ForeignTables(ctx, d.Pool)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	_, err = db.Migrate(ctx, d.Pool, nil)
	require.NoError(t, err)
	require.NoError(t, db.CheckSchema(ctx, d.Pool))
	n, err = db.ForeignTables(ctx, d.Pool)
	require.NoError(t, err)
	require.Zero(t, n, "a database attune has migrated is attune's")
}
