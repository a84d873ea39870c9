package db_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/pgtest"
)

// openMigrated opens a fresh, migrated database.
func openMigrated(t *testing.T) *db.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, pgtest.NewDatabase(t, "", nil), db.Options{MaxConns: 4})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	_, err = db.Migrate(ctx, d.Pool, nil)
	require.NoError(t, err)
	return d
}

// seedExecutions inserts n executions: every tenth one still running on worker w1, the
// rest completed, one of them a re-run and one a retry; actions p.a0 to p.a99.
func seedExecutions(t *testing.T, d *db.DB, n int) {
	t.Helper()
	_, err := d.Pool.Exec(context.Background(), fmt.Sprintf(`
		INSERT INTO attune.pack (ref, version) VALUES ('p', '1');
		INSERT INTO attune.action (ref, pack_id, pack_ref, runtime) SELECT 'p.a', id, 'p', 'noop' FROM attune.pack;
		INSERT INTO attune.execution (action_ref, runtime, status, timeout_seconds, worker, started_at, finished_at, created_at)
		SELECT 'p.a' || (g %% 100), 'noop', CASE WHEN g %% 10 = 0 THEN 'running' ELSE 'completed' END, 60, 'w1', now(),
		       CASE WHEN g %% 10 = 0 THEN NULL ELSE now() END, now() - make_interval(secs => %d - g)
		FROM generate_series(1, %d) g;
		UPDATE attune.execution SET rerun_of = 1 WHERE id = 2;
		UPDATE attune.execution SET original_id = 1, attempt = 2 WHERE id = 3;
		ANALYZE attune.execution`, n, n))
	require.NoError(t, err)
}

// A status change rewrites no index of attune.execution (a HOT update) when it leaves the
// row's non-terminal state alone: no index may cover status, worker or the status times.
func TestExecutionIndexesLeaveStatusColumnsOut(t *testing.T) {
	t.Parallel()
	d := openMigrated(t)
	rows, err := d.Pool.Query(context.Background(),
		`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'attune' AND tablename = 'execution'`)
	require.NoError(t, err)
	defs, err := pgx.CollectRows(rows, pgx.RowToMap)
	require.NoError(t, err)
	require.NotEmpty(t, defs)
	for _, def := range defs {
		for _, col := range []string{"status", "worker", "scheduled_at", "started_at", "updated_at", "result", "error"} {
			require.NotContains(t, def["indexdef"], col, "index %s covers %s, which status updates change", def["indexname"], col)
		}
	}
}

// Claiming an execution (scheduled -> running) is a HOT update: counted by the server itself.
func TestExecutionStartIsHOT(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openMigrated(t)
	seedExecutions(t, d, 10)
	_, err := d.Pool.Exec(ctx, `UPDATE attune.execution SET status = 'scheduled', worker = '', started_at = NULL, finished_at = NULL, action_ref = 'p.a'`)
	require.NoError(t, err)
	const n = 10
	var upd, hot int64
	// The xact view also holds counts the backend has not reported yet: take the difference.
	const counts = `SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relid = 'attune.execution'::regclass`
	require.NoError(t, d.InTx(ctx, func(q *db.Queries) error {
		var upd0, hot0 int64
		if err := q.Tx().QueryRow(ctx, counts).Scan(&upd0, &hot0); err != nil {
			return err
		}
		defer func() { upd, hot = upd-upd0, hot-hot0 }()
		for id := int64(1); id <= n; id++ {
			if _, err := q.ExecutionStart(ctx, id, "w2"); err != nil {
				return err
			}
		}
		return q.Tx().QueryRow(ctx, counts).Scan(&upd, &hot)
	}))
	require.Equal(t, int64(n), upd)
	require.Equal(t, int64(n), hot, "every scheduled -> running update is HOT")
	x, err := d.AutoCommit().Execution(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, attune.StatusRunning, x.Status)
}

// The statements the engine runs on a large execution table each use an index, as generic
// plans (plan_cache_mode force_generic_plan, attune's default): the reaper's, prune's, and the
// foreign keys' own lookups when an enforcement or an execution is deleted.
func TestExecutionHotQueriesUseAnIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openMigrated(t)
	seedExecutions(t, d, 20000)
	conn, err := d.Pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, `SET plan_cache_mode = force_generic_plan`)
	require.NoError(t, err)
	tests := []struct{ name, index, sql, args string }{
		{"reaper", "execution_unfinished_idx", `SELECT x.* FROM attune.execution x
			LEFT JOIN attune.worker w ON w.name = x.worker
			WHERE x.status IN ('running', 'canceling') AND x.finished_at IS NULL
			  AND (w.name IS NULL OR w.last_seen_at < $1)`, "now()"},
		{"prune executions", "execution_created_at_idx", `SELECT o.id FROM attune.execution o
			WHERE o.created_at < $1 AND o.status IN ('completed', 'failed', 'timeout', 'cancelled', 'abandoned')
			ORDER BY o.created_at LIMIT 1000`, "now() - interval '1 hour'"},
		{"list by action", "execution_action_idx", `SELECT * FROM attune.execution WHERE action_ref = $1 ORDER BY id DESC LIMIT 50`, "'p.a1'"},
		{"get", "execution_pkey", `SELECT * FROM attune.execution WHERE id = $1`, "1"},
		{"attempts", "execution_attempt_key", `SELECT * FROM attune.execution WHERE id = $1 OR original_id = $1 ORDER BY attempt`, "1"},
		{"enforcement deleted (FK set null)", "execution_enforcement_attempt_key", `UPDATE attune.execution SET enforcement_id = NULL WHERE enforcement_id = $1`, "1"},
		{"execution deleted (FK rerun_of set null)", "execution_rerun_of_idx", `UPDATE attune.execution SET rerun_of = NULL WHERE rerun_of = $1`, "1"},
		{"execution deleted (FK original_id cascade)", "execution_attempt_key", `DELETE FROM attune.execution WHERE original_id = $1`, "1"},
	}
	for i, tt := range tests {
		name := fmt.Sprintf("q%d", i)
		_, err := conn.Exec(ctx, fmt.Sprintf("PREPARE %s AS %s", name, tt.sql))
		require.NoError(t, err, tt.name)
		rows, err := conn.Query(ctx, fmt.Sprintf("EXPLAIN EXECUTE %s(%s)", name, tt.args))
		require.NoError(t, err, tt.name)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err, tt.name)
		plan := strings.Join(lines, "\n")
		require.Contains(t, plan, tt.index, "%s:\n%s", tt.name, plan)
		require.NotContains(t, plan, "Seq Scan on execution", "%s:\n%s", tt.name, plan)
	}
}
