package db_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/pgtest"
)

// Migration 00014 adds 'pending' to the execution status CHECK and keeps whatever else the CHECK
// allows: run after a migration that already lists 'pending' beside 'paused' (the workflows'),
// it changes nothing, and its down removes 'pending' only.
func TestInquiryMigrationKeepsOtherStatuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := db.Open(ctx, pgtest.NewDatabase(t, "", nil), db.Options{MaxConns: 2})
	require.NoError(t, err)
	defer d.Close()
	_, err = db.Migrate(ctx, d.Pool, nil)
	require.NoError(t, err)
	statuses := func() string {
		var def string
		require.NoError(t, d.Pool.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint
			WHERE conrelid = 'attune.execution'::regclass AND conname = 'execution_status_check'`).Scan(&def))
		return strings.NewReplacer("::text", "", "'", "").Replace(def)
	}
	require.Contains(t, statuses(), "pending")
	require.Contains(t, statuses(), "paused")

	src, err := os.ReadFile("migrations/00014_inquiries.sql")
	require.NoError(t, err)
	blocks := strings.Split(string(src), "-- +goose StatementBegin")
	require.Len(t, blocks, 3)
	up := strings.Split(blocks[1], "-- +goose StatementEnd")[0]
	down := strings.Split(blocks[2], "-- +goose StatementEnd")[0]

	_, err = d.Pool.Exec(ctx, `ALTER TABLE attune.execution DROP CONSTRAINT execution_status_check;
		ALTER TABLE attune.execution ADD CONSTRAINT execution_status_check CHECK (status IN ('requested',
		'scheduled', 'running', 'canceling', 'paused', 'pending', 'completed', 'failed', 'timeout', 'cancelled', 'abandoned'))`)
	require.NoError(t, err)
	_, err = d.Pool.Exec(ctx, up)
	require.NoError(t, err)
	require.Contains(t, statuses(), "running, canceling, paused, pending, completed")
	_, err = d.Pool.Exec(ctx, down)
	require.NoError(t, err)
	require.Contains(t, statuses(), "running, canceling, paused, completed")
	require.NotContains(t, statuses(), "pending")
	_, err = d.Pool.Exec(ctx, up)
	require.NoError(t, err)
	require.Contains(t, statuses(), "running, pending, canceling, paused, completed")
}
