package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/packs"
)

// select attune.emit(trigger, payload) raises an event in the caller's transaction: rolled
// back, there is no event and no job; committed, the rule runs. Its job row is the one River's
// InsertTx writes for jobs.EventProcessArgs: River sees it as the same unique job.
func TestEmitSQL(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	p, err := packs.LoadDir(attunetest.WritePack(t, map[string]string{
		"pack.yaml":          "ref: mypack\nversion: 1.0.0\n",
		"triggers/paid.yaml": "ref: order_paid\n",
		"actions/note.yaml":  "ref: note\nrunner_type: noop\nparameters:\n  order: {type: integer}\n",
		"rules/paid.yaml":    "ref: paid\ntrigger_ref: order_paid\naction_ref: note\naction_params: {order: \"{{ event.payload.order }}\"}\n",
	}), time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(ctx, p)
	require.NoError(t, err)
	count := func(sql string) int {
		var n int
		require.NoError(t, e.DB.Pool.QueryRow(ctx, sql).Scan(&n))
		return n
	}

	tx, err := e.DB.Pool.Begin(ctx)
	require.NoError(t, err)
	var rolledBack int64
	require.NoError(t, tx.QueryRow(ctx, `SELECT attune.emit('mypack.order_paid', '{"order": 41}'::jsonb)`).Scan(&rolledBack))
	require.NoError(t, tx.Rollback(ctx))
	require.Equal(t, 0, count(`SELECT count(*) FROM attune.event`), "a rollback leaves no event")
	require.Equal(t, 0, count(`SELECT count(*) FROM river_job WHERE kind = 'attune.event.process'`), "and no job")

	tx, err = e.DB.Pool.Begin(ctx)
	require.NoError(t, err)
	var id int64
	require.NoError(t, tx.QueryRow(ctx, `SELECT attune.emit('mypack.order_paid', '{"order": 42}'::jsonb)`).Scan(&id))
	res, err := e.River.InsertTx(ctx, tx, jobs.EventProcessArgs{EventID: id}, nil)
	require.NoError(t, err)
	require.True(t, res.UniqueSkippedAsDuplicate, "River finds the job attune.emit inserted: same kind, args, unique key and states")
	require.NoError(t, tx.Commit(ctx))

	require.Eventually(t, func() bool {
		xs, err := e.DB.AutoCommit().ExecutionsByEvent(ctx, id)
		return err == nil && len(xs) == 1 && xs[0].Status == "completed" && xs[0].Parameters["order"] == float64(42)
	}, 30*time.Second, 50*time.Millisecond, "the rule runs")

	// The same columns as a job River inserts for another event.
	other, err := e.River.Insert(ctx, jobs.EventProcessArgs{EventID: id + 1000}, &river.InsertOpts{Pending: true})
	require.NoError(t, err)
	var same bool
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `
		SELECT a.queue = b.queue AND a.max_attempts = b.max_attempts AND a.priority = b.priority
		       AND a.unique_states = b.unique_states AND a.metadata = b.metadata
		FROM river_job a, river_job b
		WHERE a.kind = 'attune.event.process' AND (a.args ->> 'event_id')::bigint = $1 AND b.id = $2`,
		id, other.Job.ID).Scan(&same))
	require.True(t, same, "queue, max_attempts, priority, unique states and metadata match River's own insert")

	// An application role needs only USAGE on the schema and EXECUTE on the function.
	role := fmt.Sprintf("app_emit_%d", time.Now().UnixNano())
	conn, err := e.DB.Pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	for _, sql := range []string{
		"CREATE ROLE " + role, "GRANT USAGE ON SCHEMA attune TO " + role,
		"GRANT EXECUTE ON FUNCTION attune.emit(text, jsonb) TO " + role, "SET ROLE " + role,
	} {
		_, err := conn.Exec(ctx, sql)
		require.NoError(t, err, sql)
	}
	var asApp int64
	err = conn.QueryRow(ctx, `SELECT attune.emit('mypack.order_paid', '{"order": 43}')`).Scan(&asApp)
	_, _ = conn.Exec(ctx, "RESET ROLE")
	_, _ = conn.Exec(ctx, "DROP OWNED BY "+role)
	_, _ = conn.Exec(ctx, "DROP ROLE "+role)
	require.NoError(t, err, "emit as a role with EXECUTE only")
	require.Greater(t, asApp, id)

	for sql, want := range map[string]string{
		`SELECT attune.emit('mypack.nope', '{}')`:              "trigger mypack.nope is not registered",
		`SELECT attune.emit('core.intervaltimer', '{}')`:       "is a timer trigger",
		`SELECT attune.emit('mypack.order_paid', '[1, 2]')`:    "payload must be a JSON object",
		`SELECT attune.emit('mypack.order_paid', NULL::jsonb)`: "payload must be a JSON object",
	} {
		_, err := e.DB.Pool.Exec(ctx, sql)
		require.ErrorContains(t, err, want, sql)
	}

	// The limits of every other entry point: 64 levels (64 pass, 65 do not, 10,000 do not) and
	// 1 MiB, and nothing is stored when they are passed.
	before := count(`SELECT count(*) FROM attune.event`)
	nested := func(levels int) string {
		return strings.Repeat(`{"a":`, levels-1) + "{}" + strings.Repeat("}", levels-1)
	}
	_, err = e.DB.Pool.Exec(ctx, `SELECT attune.emit('mypack.order_paid', $1::jsonb)`, nested(64))
	require.NoError(t, err, "64 levels are accepted")
	for name, payload := range map[string]string{
		"65 levels":     nested(65),
		"10,000 levels": nested(10000),
	} {
		_, err := e.DB.Pool.Exec(ctx, `SELECT attune.emit('mypack.order_paid', $1::jsonb)`, payload)
		require.ErrorContains(t, err, "nested more than 64 levels deep", name)
	}
	_, err = e.DB.Pool.Exec(ctx, `SELECT attune.emit('mypack.order_paid', jsonb_build_object('s', repeat('x', 1100000)))`)
	require.ErrorContains(t, err, "larger than 1 MiB")
	require.Equal(t, before+1, count(`SELECT count(*) FROM attune.event`), "only the 64-level payload was stored")
}
