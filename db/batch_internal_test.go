package db

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
	"github.com/attune-run/attune/internal/pgtest"
)

// The event step's two reads, the event and the rules it is for, go to the server in one batch
// (one round trip) and give what the two separate reads give, for every kind of event: one on
// a trigger, one targeting an enabled rule, a disabled rule, or a rule deleted since.
func TestEventWithRulesMatchesSeparateReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "", nil)
	d, err := Open(ctx, url, Options{MaxConns: 2})
	require.NoError(t, err)
	defer d.Close()
	_, err = Migrate(ctx, d.Pool, nil)
	require.NoError(t, err)
	_, err = d.Pool.Exec(ctx, `
		INSERT INTO attune.pack (ref, version) VALUES ('p', '1');
		INSERT INTO attune.rule (id, ref, pack_id, pack_ref, trigger_ref, action_ref, enabled)
		SELECT r.id, r.ref, p.id, 'p', r.trig, 'core.noop', r.enabled FROM attune.pack p,
		  (VALUES (1, 'p.on_t1', 't.one', true), (2, 'p.off_t1', 't.one', false), (3, 'p.on_t1_too', 't.one', true),
		          (4, 'p.on_t2', 't.two', true), (5, 'p.gone', 't.two', true)) AS r(id, ref, trig, enabled);
		INSERT INTO attune.event (id, trigger_ref, rule_id) VALUES
		  (1, 't.one', NULL), (2, 't.one', 4), (3, 't.one', 2), (4, 't.two', 5), (5, 't.three', NULL);
		DELETE FROM attune.rule WHERE id = 5`)
	require.NoError(t, err)

	q, tr := tracedQueries(t, url)

	for _, tt := range []struct {
		name  string
		id    int64
		rules []string
	}{
		{"on a trigger: its enabled rules", 1, []string{"p.on_t1", "p.on_t1_too"}},
		{"targeting an enabled rule: that rule alone", 2, []string{"p.on_t2"}},
		{"targeting a disabled rule: none", 3, nil},
		{"targeting a deleted rule (rule_id set to NULL): its trigger's", 4, []string{"p.on_t2"}},
		{"on a trigger no rule listens on: none", 5, nil},
	} {
		tr.reset()
		ev, rules, err := q.EventWithRules(ctx, tt.id)
		require.NoError(t, err, tt.name)
		require.Equal(t, [3]int64{0, 1, 2}, tr.counts(), "%s: no query on its own, one batch of two", tt.name)
		require.Equal(t, tt.rules, refs(rules), tt.name)

		wantEv, wantRules := separateReads(t, q, tt.id)
		require.Equal(t, wantEv, ev, tt.name)
		require.Equal(t, wantRules, noRules(rules), tt.name)
	}

	_, _, err = q.EventWithRules(ctx, 99)
	require.ErrorIs(t, err, attune.ErrNotFound)
	require.ErrorContains(t, err, "event 99")
}

// An execution's detail (the execution, its history, every attempt of it) is one batch of three
// reads and gives what the separate reads give, for a first attempt, its retry, and an
// execution without either.
func TestExecutionDetailMatchesSeparateReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "", nil)
	d, err := Open(ctx, url, Options{MaxConns: 2})
	require.NoError(t, err)
	defer d.Close()
	_, err = Migrate(ctx, d.Pool, nil)
	require.NoError(t, err)
	_, err = d.Pool.Exec(ctx, `
		INSERT INTO attune.execution (id, action_ref, runtime, status, timeout_seconds, attempt, original_id) VALUES
		  (1, 'p.a', 'noop', 'failed', 60, 1, NULL), (2, 'p.a', 'noop', 'completed', 60, 2, 1), (3, 'p.b', 'noop', 'scheduled', 60, 1, NULL);
		INSERT INTO attune.execution_history (execution_id, from_status, to_status, worker, reason) VALUES
		  (1, NULL, 'scheduled', '', ''), (1, 'scheduled', 'running', 'w1', ''), (1, 'running', 'failed', 'w1', 'exit 1'),
		  (2, NULL, 'scheduled', '', '')`)
	require.NoError(t, err)
	q, tr := tracedQueries(t, url)

	for _, tt := range []struct {
		name              string
		id                int64
		history, attempts int
	}{
		{"a first attempt that was retried", 1, 3, 2},
		{"its retry", 2, 1, 2},
		{"no history, one attempt", 3, 0, 1},
	} {
		tr.reset()
		got, err := q.ExecutionDetail(ctx, tt.id)
		require.NoError(t, err, tt.name)
		require.Equal(t, [3]int64{0, 1, 3}, tr.counts(), "%s: no query on its own, one batch of three", tt.name)
		require.Len(t, got.History, tt.history, tt.name)
		require.Len(t, got.Attempts, tt.attempts, tt.name)

		x, err := q.Execution(ctx, tt.id)
		require.NoError(t, err)
		hist, err := q.History(ctx, tt.id)
		require.NoError(t, err)
		attempts, err := q.ExecutionAttempts(ctx, tt.id)
		require.NoError(t, err)
		require.Equal(t, ExecutionDetail{Execution: x, History: hist, Attempts: attempts}, got, tt.name)
	}

	_, err = q.ExecutionDetail(ctx, 99)
	require.ErrorIs(t, err, attune.ErrNotFound)
	require.ErrorContains(t, err, "execution 99")
}

// tracedQueries returns queries on a pool of their own whose statements and batches tr counts.
func tracedQueries(t *testing.T, url string) (*Queries, *countingTracer) {
	t.Helper()
	tr := &countingTracer{}
	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	cfg.ConnConfig.Tracer = tr
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return &Queries{q: dbsqlc.New(pool), batch: pool}, tr
}

// separateReads is the event step as it read before EventWithRules: the event, then its target
// rule when enabled or its trigger's enabled rules.
func separateReads(t *testing.T, q *Queries, id int64) (attune.Event, []attune.Rule) {
	t.Helper()
	ctx := context.Background()
	ev, err := q.Event(ctx, id)
	require.NoError(t, err)
	if ev.RuleID == nil {
		rules, err := q.RulesForTrigger(ctx, ev.TriggerRef)
		require.NoError(t, err)
		return ev, noRules(rules)
	}
	r, err := q.RuleByID(ctx, *ev.RuleID)
	if errors.Is(err, attune.ErrNotFound) || (err == nil && !r.Enabled) {
		return ev, nil
	}
	require.NoError(t, err)
	return ev, []attune.Rule{r}
}

func noRules(rules []attune.Rule) []attune.Rule {
	if len(rules) == 0 {
		return nil
	}
	return rules
}

func refs(rules []attune.Rule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.Ref)
	}
	return out
}

// countingTracer counts the statements a pool sends on their own, the batches, and the
// statements in them.
type countingTracer struct{ queries, batches, batched atomic.Int64 }

func (c *countingTracer) reset() { c.queries.Store(0); c.batches.Store(0); c.batched.Store(0) }

func (c *countingTracer) counts() [3]int64 {
	return [3]int64{c.queries.Load(), c.batches.Load(), c.batched.Load()}
}

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.queries.Add(1)
	return ctx
}

func (c *countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *countingTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	c.batches.Add(1)
	c.batched.Add(int64(d.Batch.Len()))
	return ctx
}

func (c *countingTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (c *countingTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
