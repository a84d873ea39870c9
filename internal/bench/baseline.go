package bench

import (
	"context"
	"fmt"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/runtimes"
)

// Settings are the River and pool settings attune's noop queue runs with; the River baseline
// runs with exactly these.
type Settings struct {
	FetchCooldown     time.Duration
	FetchPollInterval time.Duration
	MaxWorkers        int   // of the noop runtime queue
	MaxConns          int32 // pgx pool size per process
	ShellConcurrency  int   // shell actions at once: the spawn baseline's parallelism
	PlanCacheMode     string
}

// riverNoopArgs is the raw River baseline's job: it does nothing.
type riverNoopArgs struct{}

// Kind implements river.JobArgs.
func (riverNoopArgs) Kind() string { return "bench.river_noop" }

// riverNoopWorker counts its jobs and remembers when the last one ran. With selfComplete it
// completes its job in its own transaction, as attune's steps do; otherwise River's batched
// completer does.
type riverNoopWorker struct {
	river.WorkerDefaults[riverNoopArgs]
	pool         *pgxpool.Pool
	selfComplete bool
	done         atomic.Int64
	last         atomic.Int64 // unix nanoseconds
}

// Work implements river.Worker.
func (w *riverNoopWorker) Work(ctx context.Context, job *river.Job[riverNoopArgs]) error {
	if w.selfComplete {
		tx, err := w.pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx) //nolint:errcheck // a no-op after commit
		if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
	}
	w.last.Store(time.Now().UnixNano())
	w.done.Add(1)
	return nil
}

// riverBaseline (B1) drains n pre-inserted no-op jobs with a River client configured as attune's
// noop queue, and returns jobs per second from the client's start to the last job worked.
func riverBaseline(ctx context.Context, url string, s Settings, n int, selfComplete bool) (float64, error) {
	d, err := db.Open(ctx, url, db.Options{MaxConns: s.MaxConns, PlanCacheMode: s.PlanCacheMode})
	if err != nil {
		return 0, err
	}
	defer d.Close()
	w := &riverNoopWorker{pool: d.Pool, selfComplete: selfComplete}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	const queue = "bench_river"
	client, err := river.NewClient(riverpgxv5.New(d.Pool), &river.Config{
		Schema:            db.RiverSchema,
		Workers:           workers,
		Queues:            map[string]river.QueueConfig{queue: {MaxWorkers: s.MaxWorkers}},
		FetchCooldown:     s.FetchCooldown,
		FetchPollInterval: s.FetchPollInterval,
		Logger:            quietLogger(),
	})
	if err != nil {
		return 0, fmt.Errorf("river baseline client: %w", err)
	}
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: riverNoopArgs{}, InsertOpts: &river.InsertOpts{Queue: queue}}
	}
	if err := insertChunked(ctx, d.Pool, func(tx pgx.Tx, lo, hi int) error {
		_, err := client.InsertManyFastTx(ctx, tx, params[lo:hi])
		return err
	}, n); err != nil {
		return 0, fmt.Errorf("insert river baseline jobs: %w", err)
	}
	start := time.Now()
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return 0, fmt.Errorf("start river baseline client: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = client.Stop(sctx)
	}()
	if err := waitFor(ctx, drainTimeout(n), func() (bool, error) { return w.done.Load() >= int64(n), nil }); err != nil {
		return 0, fmt.Errorf("river baseline: %d of %d jobs worked: %w", w.done.Load(), n, err)
	}
	return Rate(n, time.Unix(0, w.last.Load()).Sub(start)), nil
}

// spawnBaseline (B2) runs `/bin/sh -c true` with parallel runs at once for d and returns runs
// per second.
func spawnBaseline(ctx context.Context, parallel int, d time.Duration) (float64, error) {
	var runs atomic.Int64
	var firstErr error
	var once sync.Once
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range parallel {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if err := exec.CommandContext(ctx, "/bin/sh", "-c", "true").Run(); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				runs.Add(1)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, fmt.Errorf("spawn baseline: /bin/sh -c true: %w", firstErr)
	}
	return Rate(int(runs.Load()), time.Since(start)), ctx.Err()
}

// pgBaseline (B3) runs single-row insert transactions from clients connections at once for d
// and returns transactions per second: the floor every pipeline step stands on.
func pgBaseline(ctx context.Context, url string, clients int, d time.Duration) (float64, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, fmt.Errorf("pg baseline: %w", err)
	}
	_, err = conn.Exec(ctx, `CREATE TABLE bench_floor (id bigserial PRIMARY KEY, v bigint NOT NULL, at timestamptz NOT NULL DEFAULT now())`)
	conn.Close(context.WithoutCancel(ctx))
	if err != nil {
		return 0, fmt.Errorf("pg baseline: create table: %w", err)
	}
	conns := make([]*pgx.Conn, clients)
	for i := range conns {
		if conns[i], err = pgx.Connect(ctx, url); err != nil {
			return 0, fmt.Errorf("pg baseline: %w", err)
		}
		defer conns[i].Close(context.WithoutCancel(ctx))
	}
	var txs atomic.Int64
	errs := make(chan error, clients)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			for v := int64(i); time.Now().Before(deadline); v += int64(clients) {
				if _, err := c.Exec(ctx, `INSERT INTO bench_floor (v) VALUES ($1)`, v); err != nil {
					errs <- err
					return
				}
				txs.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	select {
	case err := <-errs:
		return 0, fmt.Errorf("pg baseline: insert: %w", err)
	default:
	}
	return Rate(int(txs.Load()), elapsed), nil
}

// runtimeBaseline (B2') runs an action through attune's runtime alone, with parallel runs at
// once for d, and returns runs per second: what the action's own processes cost (for core.echo:
// one shell), with no database in the way.
func runtimeBaseline(ctx context.Context, set *runtimes.Set, action attune.Action, parallel int, d time.Duration) (float64, error) {
	var runs atomic.Int64
	var firstErr error
	var once sync.Once
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range parallel {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				res, err := set.Run(ctx, runtimes.Request{
					ExecutionID: int64(w*1_000_000 + i), Action: action,
					Parameters: map[string]any{"message": "event 1"}, ParameterFormat: action.ParameterFormat,
					Timeout: time.Minute,
				})
				if err == nil && res.Status != attune.StatusCompleted {
					err = fmt.Errorf("%s ended %s: %s", action.Ref, res.Status, res.Error)
				}
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				runs.Add(1)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, fmt.Errorf("runtime baseline: %w", firstErr)
	}
	return Rate(int(runs.Load()), time.Since(start)), ctx.Err()
}
