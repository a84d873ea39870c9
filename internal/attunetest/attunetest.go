// Package attunetest builds a whole attune pipeline for tests: a fresh migrated database on the
// test PostgreSQL server (see internal/pgtest), a real River client working every queue, the
// real runtimes, and the timers.
package attunetest

import (
	"context"
	"crypto/rand"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/engine"
	"github.com/attune-run/attune/internal/pgtest"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/packs"
	"github.com/attune-run/attune/registry"
	"github.com/attune-run/attune/runtimes"
	"github.com/attune-run/attune/secrets"
	"github.com/attune-run/attune/sensors"
)

// Env is one test's attune: one replica of the engine running every role, built by
// engine.New as `attune start` builds one, with test-friendly knobs (short fetch intervals, ten
// workers a queue, a 500 ms kill grace).
type Env struct {
	URL    string
	DB     *db.DB
	Engine *engine.Replica
	// P, Timers, Registry and River are Engine's.
	P        *jobs.Pipeline
	Timers   *sensors.Timers
	Registry *registry.Registry
	River    *river.Client[pgx.Tx]
	Hub      *db.Hub // listening for the execution and output notices, while the test runs

	log *slog.Logger
}

// Migrate applies attune's and River's migrations to the database at url.
func Migrate(ctx context.Context, url string) error {
	d, err := db.Open(ctx, url, db.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	_, err = db.Migrate(ctx, d.Pool, nil)
	return err
}

// Options tune New.
type Options struct {
	NoStart      bool // build the replica but do not start it (no job is worked)
	NoSecretsKey bool // leave the pipeline without a secrets key (secrets.key unset)
	// NoListen runs the cancel watcher without notifications, on its poll alone (Hub is nil).
	NoListen bool
	// Logger receives the records of the pipeline, the timers, the runtimes and River; nil
	// sends warnings and errors to stderr.
	Logger *slog.Logger
	// ReconcileEvery is how often the timer reconciler runs (besides once at start); zero is
	// the engine's default (30 s).
	ReconcileEvery time.Duration
	// MaxTaskRuns is the pipeline's workflows.max_task_runs; zero is its default.
	MaxTaskRuns int
	// Now is the clock of the pipeline and the timers; nil is time.Now.
	Now func() time.Time
}

// killGrace is the tests' SIGTERM-to-SIGKILL grace: short, so that tests that kill run fast.
const killGrace = 500 * time.Millisecond

// New builds an attune on a fresh database with the core pack registered and starts it. Once
// started, the reconciler's and the retention prune's runs at start have finished, so they do
// not race the test.
func New(t testing.TB, opts ...Options) *Env {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "attune", Migrate)
	d, err := db.Open(ctx, url, db.Options{MaxConns: 20})
	require.NoError(t, err)
	t.Cleanup(d.Close)

	// Warnings and errors only, to stderr: t.Log would panic when River logs after the test ends.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if o.Logger != nil {
		log = o.Logger
	}
	var box *secrets.Box
	if !o.NoSecretsKey {
		box = testBox(t)
	}
	var hub *db.Hub
	if !o.NoListen {
		hub = listen(t, d, log)
	}
	r, err := engine.New(engineConfig(jobs.Config{
		DB: d, Worker: "test-worker", Log: log, Secrets: box, KillGrace: killGrace,
		RescueAfter: engine.DefaultRescueAfter(killGrace), MaxTaskRuns: o.MaxTaskRuns, Now: o.Now,
		Runtimes: runtimes.New(runtimes.Config{WorkDir: filepath.Join(t.TempDir(), "actions"), KillGrace: killGrace, Logger: o.Logger}),
	}, engine.Roles, hub, o.ReconcileEvery))
	require.NoError(t, err)
	core, err := packs.Core()
	require.NoError(t, err)
	_, err = r.Registry().RegisterPack(ctx, core)
	require.NoError(t, err)
	e := &Env{URL: url, DB: d, Engine: r, P: r.Pipeline(), Timers: r.Timers(), Registry: r.Registry(), River: r.River(), Hub: hub, log: log}
	if !o.NoStart {
		start(t, r)
		e.waitStartRuns(t)
	}
	return e
}

// engineConfig is the engine configuration of a test replica.
func engineConfig(p jobs.Config, roles []string, hub *db.Hub, reconcileEvery time.Duration) engine.Config {
	return engine.Config{
		Pipeline: p, Roles: roles, TestOnly: true, Hub: hub,
		FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond,
		Concurrency: 10, NoopConcurrency: 10, EventWorkers: 10, TimerWorkers: 10,
		ReconcileEvery: reconcileEvery,
		// A heartbeat at start, and no reaper tick while a test runs: tests call Reap
		// themselves, and count what it ended.
		Heartbeat: time.Minute, SilentAfter: 10 * time.Minute,
		ShutdownGrace: 10 * time.Second,
	}
}

// start starts r until the test ends.
func start(t testing.TB, r *engine.Replica) {
	t.Helper()
	require.NoError(t, r.Start(context.Background()))
	t.Cleanup(func() {
		if err := r.Stop(context.Background()); err != nil {
			t.Errorf("stop the replica: %v", err)
		}
	})
}

// waitStartRuns waits until the River leader's runs at start of the timer reconciler and the
// retention prune have finished.
func (e *Env) waitStartRuns(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		err := e.DB.Pool.QueryRow(context.Background(), `SELECT count(DISTINCT kind) FROM river_job
			WHERE kind = ANY($1) AND state IN ('completed', 'discarded', 'cancelled')`,
			[]string{jobs.KindTimerReconcile, jobs.KindRetentionPrune}).Scan(&n)
		require.NoError(t, err)
		if n == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reconciler and the retention prune did not run at start within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// listen runs a hub on d until the test ends.
func listen(t testing.TB, d *db.DB, log *slog.Logger) *db.Hub {
	ctx, cancel := context.WithCancel(context.Background())
	hub := db.NewHub(d, log)
	done := make(chan struct{})
	go func() { _ = hub.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return hub
}

// Replica builds a second attune replica on the same database: its own pool and engine,
// sharing nothing in memory with e but the runtimes and the secrets key. It stands for another
// `attune start` or a CLI on another host. With no roles it works no queue (insert-only);
// with roles it is started, its cancel watcher on its poll alone, until the test ends.
func (e *Env) Replica(t testing.TB, name string, roles ...string) *jobs.Pipeline {
	t.Helper()
	d, err := db.Open(context.Background(), e.URL, db.Options{MaxConns: 10})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	r, err := engine.New(engineConfig(jobs.Config{
		DB: d, Runtimes: e.P.Runtimes, Worker: name, Log: e.log, Secrets: e.P.Secrets,
		KillGrace: killGrace, RescueAfter: engine.DefaultRescueAfter(killGrace),
	}, roles, nil, 0))
	require.NoError(t, err)
	if len(roles) > 0 {
		start(t, r)
	}
	return r.Pipeline()
}

// WaitTerminal polls an execution until it is terminal or the deadline passes.
func (e *Env) WaitTerminal(t testing.TB, id int64, within time.Duration) attune.Execution {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		x, err := e.DB.AutoCommit().Execution(context.Background(), id)
		require.NoError(t, err)
		if x.Status.Terminal() {
			return x
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %d still %s after %s", id, x.Status, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// JobCount counts River jobs of a kind whose args carry execution_id = id.
func (e *Env) JobCount(t testing.TB, kind string, id int64) int {
	t.Helper()
	var n int
	err := e.DB.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM river_job WHERE kind = $1 AND (args->>'execution_id')::bigint = $2`, kind, id).Scan(&n)
	require.NoError(t, err)
	return n
}

// WritePack writes files (path relative to the pack root -> content) into a new directory and
// returns it.
func WritePack(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

// testBox returns a secrets box under a fresh random key.
func testBox(t testing.TB) *secrets.Box {
	t.Helper()
	key := make([]byte, secrets.KeySize)
	_, err := rand.Read(key)
	require.NoError(t, err)
	box, err := secrets.NewBox(key)
	require.NoError(t, err)
	return box
}
