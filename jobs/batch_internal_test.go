package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/pgtest"
)

// stepsDB opens a bare database with a table the test steps write to.
func stepsDB(t *testing.T) *db.DB {
	t.Helper()
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "bare", func(context.Context, string) error { return nil })
	d, err := db.Open(ctx, url, db.Options{MaxConns: 8})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	_, err = d.Pool.Exec(ctx, `CREATE TABLE step (name text NOT NULL, tx bigint NOT NULL DEFAULT txid_current())`)
	require.NoError(t, err)
	return d
}

// holdLeaders starts batchesInFlight steps that each hold a batch open until release is closed,
// and returns once both are running: the next steps queue up behind them. Each holder is started
// once the one before it runs: started together, the first batch could take both, and the second
// would wait behind the first for ever.
func holdLeaders(t *testing.T, g *groupCommit, release chan struct{}) *sync.WaitGroup {
	t.Helper()
	var started, done sync.WaitGroup
	for i := range batchesInFlight {
		started.Wait()
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			first := true
			err := g.InTx(context.Background(), func(q *db.Queries) error {
				if first {
					first = false
					started.Done()
				}
				<-release
				_, err := q.Tx().Exec(context.Background(), `INSERT INTO step (name) VALUES ($1)`, fmt.Sprint("holder", i))
				return err
			})
			require.NoError(t, err)
		}()
	}
	started.Wait()
	return &done
}

// waitQueued waits until n steps wait for a batch.
func waitQueued(t *testing.T, g *groupCommit, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.queue) == n
	}, 10*time.Second, time.Millisecond)
}

// Steps that arrive while the shared transactions are busy wait, and then run together in one
// transaction; each caller returns once it committed.
func TestGroupCommitSharesOneTransaction(t *testing.T) {
	t.Parallel()
	d := stepsDB(t)
	g := &groupCommit{db: d, size: 16, patience: time.Hour}
	release := make(chan struct{})
	holders := holdLeaders(t, g, release)

	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, g.InTx(context.Background(), func(q *db.Queries) error {
				_, err := q.Tx().Exec(context.Background(), `INSERT INTO step (name) VALUES ($1)`, fmt.Sprint("step", i))
				return err
			}))
		}()
	}
	waitQueued(t, g, n)
	close(release)
	wg.Wait()
	holders.Wait()

	var steps, txs int
	require.NoError(t, d.Pool.QueryRow(context.Background(),
		`SELECT count(*), count(DISTINCT tx) FROM step WHERE name LIKE 'step%'`).Scan(&steps, &txs))
	require.Equal(t, n, steps)
	require.Equal(t, 1, txs, "the waiting steps committed in one transaction")
}

// A step that fails or panics fails only its own caller: its batch is rolled back and every
// step runs again alone, so its neighbours commit once each and the bad step's writes do not.
func TestGroupCommitIsolatesABadStep(t *testing.T) {
	t.Parallel()
	d := stepsDB(t)
	g := &groupCommit{db: d, size: 16, patience: time.Hour}
	release := make(chan struct{})
	holders := holdLeaders(t, g, release)

	bad := errors.New("poisonous event")
	type outcome struct {
		err      error
		panicked any
	}
	outcomes := make([]outcome, 6)
	var wg sync.WaitGroup
	for i := range outcomes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { outcomes[i].panicked = recover() }()
			outcomes[i].err = g.InTx(context.Background(), func(q *db.Queries) error {
				if _, err := q.Tx().Exec(context.Background(), `INSERT INTO step (name) VALUES ($1)`, fmt.Sprint("step", i)); err != nil {
					return err
				}
				switch i {
				case 2:
					return bad
				case 4:
					panic("step 4 blew up")
				}
				return nil
			})
		}()
	}
	waitQueued(t, g, len(outcomes))
	close(release)
	wg.Wait()
	holders.Wait()

	for i, o := range outcomes {
		switch i {
		case 2:
			require.ErrorIs(t, o.err, bad)
			require.NotErrorIs(t, o.err, errBatchFailed, "the bad step gets its own error")
		case 4:
			require.Equal(t, "step 4 blew up", o.panicked, "the panic reaches its own caller")
		default:
			require.NoError(t, o.err, "step %d", i)
			require.Nil(t, o.panicked)
		}
	}
	rows, err := d.Pool.Query(context.Background(), `SELECT name, count(*) FROM step WHERE name LIKE 'step%' GROUP BY name ORDER BY name`)
	require.NoError(t, err)
	got := map[string]int{}
	for rows.Next() {
		var name string
		var c int
		require.NoError(t, rows.Scan(&name, &c))
		got[name] = c
	}
	require.NoError(t, rows.Err())
	require.Equal(t, map[string]int{"step0": 1, "step1": 1, "step3": 1, "step5": 1}, got,
		"each good step committed once; the failed and the panicked step wrote nothing")
}

// A step does not wait behind slow batches for long: it leaves the queue and runs alone, while
// the batches ahead of it still hold their transactions.
func TestGroupCommitStepLeavesSlowBatches(t *testing.T) {
	t.Parallel()
	d := stepsDB(t)
	g := &groupCommit{db: d, size: 16}
	release := make(chan struct{})
	holders := holdLeaders(t, g, release)
	defer func() {
		close(release)
		holders.Wait()
	}()

	require.NoError(t, g.InTx(context.Background(), func(q *db.Queries) error {
		_, err := q.Tx().Exec(context.Background(), `INSERT INTO step (name) VALUES ('impatient')`)
		return err
	}))
	var n int
	require.NoError(t, d.Pool.QueryRow(context.Background(), `SELECT count(*) FROM step`).Scan(&n))
	require.Equal(t, 1, n, "the step committed alone while both batches were still open")
}

// What prepare does ahead for a batch's keyed steps (the dispatch claim, in one statement)
// reaches each key's first step only: a second delivery of the same job in the same batch gets
// nothing and does the work itself (and finds it done), so an action is never run twice.
func TestGroupCommitPrepareHandsEachKeyOnce(t *testing.T) {
	t.Parallel()
	d := stepsDB(t)
	var prepared [][]int64
	g := &groupCommit{db: d, size: 16, patience: time.Hour,
		prepare: func(_ context.Context, _ *db.Queries, keys []int64) (map[int64]any, error) {
			prepared = append(prepared, keys)
			m := map[int64]any{}
			for _, k := range keys {
				m[k] = fmt.Sprint("claim", k)
			}
			return m, nil
		}}
	release := make(chan struct{})
	holders := holdLeaders(t, g, release)

	keys := []int64{7, 8, 7, 0}
	got := make([]any, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, g.inTxKeyed(context.Background(), k, func(_ *db.Queries, pre any) error {
				got[i] = pre
				return nil
			}))
		}()
	}
	waitQueued(t, g, len(keys))
	close(release)
	wg.Wait()
	holders.Wait()

	require.Len(t, prepared, 1, "one prepare for the batch")
	require.ElementsMatch(t, []int64{7, 8, 7}, prepared[0], "the keyed steps only")
	require.Equal(t, "claim8", got[1])
	require.Nil(t, got[3], "an unkeyed step gets nothing")
	require.ElementsMatch(t, []any{"claim7", nil}, []any{got[0], got[2]}, "key 7's claim reaches one of its two steps")

	// A step alone is handed nothing.
	require.NoError(t, g.inTxKeyed(context.Background(), 9, func(_ *db.Queries, pre any) error {
		require.Nil(t, pre)
		return nil
	}))
}
