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
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/pgtest"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/packs"
	"github.com/attune-run/attune/registry"
	"github.com/attune-run/attune/runtimes"
	"github.com/attune-run/attune/secrets"
	"github.com/attune-run/attune/sensors"
)

// Env is one test's attune.
type Env struct {
	URL    string
	DB     *db.DB
	P      *jobs.Pipeline
	Timers *sensors.Timers
	// Registry registers packs and enables or disables rules.
	Registry *registry.Registry
	River    *river.Client[pgx.Tx]
	Hub      *db.Hub // listening for the execution and output notices, while the test runs
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
	NoStart      bool // build the client but do not start working jobs
	NoSecretsKey bool // leave the pipeline without a secrets key (secrets.key unset)
	// NoListen runs the cancel watcher without notifications, on its poll alone (Hub is nil).
	NoListen bool
	// Logger receives the records of the pipeline, the timers, the runtimes and River; nil
	// sends warnings and errors to stderr.
	Logger *slog.Logger
}

// New builds an attune on a fresh database with the core pack registered and starts it.
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
	p := &jobs.Pipeline{
		DB: d, Worker: "test-worker", Log: log,
		Runtimes: runtimes.New(runtimes.Config{WorkDir: filepath.Join(t.TempDir(), "actions"), KillGrace: 500 * time.Millisecond, Logger: o.Logger}),
	}
	if !o.NoSecretsKey {
		p.Secrets = testBox(t)
	}
	timers := &sensors.Timers{P: p, Log: log}
	workers := river.NewWorkers()
	jobs.Register(workers, p)
	sensors.Register(workers, timers)
	queues := map[string]river.QueueConfig{
		jobs.QueueTimers: {MaxWorkers: 10},
		jobs.QueueEvents: {MaxWorkers: 10},
	}
	for _, rt := range attune.Runtimes {
		queues[jobs.RuntimeQueue(rt)] = river.QueueConfig{MaxWorkers: 10}
	}
	client, err := river.NewClient(riverpgxv5.New(d.Pool), &river.Config{
		Schema: db.RiverSchema, Workers: workers, Queues: queues, Logger: log,
		FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond,
		TestOnly: true,
	})
	require.NoError(t, err)
	p.River = client
	core, err := packs.Core()
	require.NoError(t, err)
	reg := registry.New(p, timers, log)
	_, err = reg.RegisterPack(ctx, core)
	require.NoError(t, err)
	if !o.NoStart {
		require.NoError(t, client.Start(ctx))
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = client.Stop(sctx)
		})
	}
	return &Env{URL: url, DB: d, P: p, Timers: timers, Registry: reg, River: client, Hub: watch(t, d, p, log, !o.NoListen)}
}

// watch starts a hub (when listen) and the pipeline's cancel watcher until the test ends.
func watch(t testing.TB, d *db.DB, p *jobs.Pipeline, log *slog.Logger, listen bool) *db.Hub {
	ctx, cancel := context.WithCancel(context.Background())
	var hub *db.Hub
	done := make(chan struct{}, 2)
	if listen {
		hub = db.NewHub(d, log)
		go func() { _ = hub.Run(ctx); done <- struct{}{} }()
	} else {
		done <- struct{}{}
	}
	go func() { p.WatchCancels(ctx, hub); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
	})
	return hub
}

// Replica builds a second attune replica on the same database: its own pool, pipeline and River
// client (insert-only: it works no queue), sharing nothing in memory with e. It stands for
// another `attune start` or a CLI on another host.
func (e *Env) Replica(t testing.TB, name string) *jobs.Pipeline {
	t.Helper()
	d, err := db.Open(context.Background(), e.URL, db.Options{MaxConns: 5})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	client, err := river.NewClient(riverpgxv5.New(d.Pool), &river.Config{Schema: db.RiverSchema, Logger: e.P.Log})
	require.NoError(t, err)
	return &jobs.Pipeline{DB: d, River: client, Runtimes: e.P.Runtimes, Worker: name, Log: e.P.Log, Secrets: e.P.Secrets}
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
