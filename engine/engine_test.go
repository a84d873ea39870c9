package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/engine"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/internal/pgtest"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/packs"
	"github.com/attune-run/attune/runtimes"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// waitFor polls cond until it holds, or fails the test after within.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The test harness runs the timer reconciler as attune start does: a timer whose fire job was
// lost gets it back, for the same fire time, without anyone calling Reconcile.
func TestHarnessReconcilesLostFireJobs(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{ReconcileEvery: 200 * time.Millisecond})
	ctx := context.Background()
	p, err := packs.LoadDir(attunetest.WritePack(t, map[string]string{
		"pack.yaml":             "ref: tp\nversion: 1.0.0\n",
		"rules/every_hour.yaml": "ref: every_hour\ntrigger_ref: core.intervaltimer\ntrigger_params: {interval: 1, unit: hours}\naction_ref: core.noop\n",
	}), time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(ctx, p)
	require.NoError(t, err)
	var timerID, lostJob int64
	var due time.Time
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT t.id, t.fire_job_id, t.next_fire_at FROM attune.timer t
		JOIN attune.rule r ON r.id = t.rule_id WHERE r.ref = 'tp.every_hour'`).Scan(&timerID, &lostJob, &due))
	_, err = e.DB.Pool.Exec(ctx, `DELETE FROM river_job WHERE id = $1`, lostJob)
	require.NoError(t, err)

	waitFor(t, "the fire job restored by the periodic reconciler", 10*time.Second, func() bool {
		var n int
		require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1
			AND (args->>'timer_id')::bigint = $2 AND state IN ('scheduled', 'available')`, jobs.KindTimerFire, timerID).Scan(&n))
		return n == 1
	})
	var restored time.Time
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT next_fire_at FROM attune.timer WHERE id = $1`, timerID).Scan(&restored))
	require.True(t, restored.Equal(due), "same fire time: %s, want %s", restored, due)
}

// The test harness runs the retention prune as attune start does, once at start: an expired
// datastore key stored before the replica started is gone once it has started.
func TestHarnessPrunesAtStart(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	ctx := context.Background()
	require.NoError(t, e.DB.InTx(ctx, func(q *db.Queries) error {
		_, err := e.P.SetKey(ctx, q, jobs.KeyWrite{Name: "stale", Value: "1", TTL: time.Hour})
		return err
	}))
	_, err := e.DB.Pool.Exec(ctx, `UPDATE attune.kv SET expires_at = now() - interval '1 hour'`)
	require.NoError(t, err)

	require.NoError(t, e.Engine.Start(ctx))
	t.Cleanup(func() { _ = e.Engine.Stop(context.Background()) })
	waitFor(t, "the expired key pruned", 30*time.Second, func() bool {
		var n int
		require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM attune.kv`).Scan(&n))
		return n == 0
	})
}

// Stop lets a running action finish for the shutdown grace, then kills it and records its
// execution abandoned, saying the worker shut down; the replica leaves the worker list.
func TestStopAbandonsWhatOutlivesTheGrace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := db.Open(ctx, pgtest.NewDatabase(t, "attune", attunetest.Migrate), db.Options{MaxConns: 10})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	grace := 500 * time.Millisecond
	r, err := engine.New(engine.Config{
		Pipeline: jobs.Config{
			DB: d, Worker: "stopping", KillGrace: grace, RescueAfter: engine.DefaultRescueAfter(grace),
			Runtimes: runtimes.New(runtimes.Config{WorkDir: filepath.Join(t.TempDir(), "actions"), KillGrace: grace}),
		},
		Roles:    []string{engine.RoleRules, engine.RoleWorkers},
		TestOnly: true, FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond,
		ShutdownGrace: 300 * time.Millisecond,
	})
	require.NoError(t, err)
	core, err := packs.Core()
	require.NoError(t, err)
	_, err = r.Registry().RegisterPack(ctx, core)
	require.NoError(t, err)
	require.NoError(t, r.Start(ctx))
	t.Cleanup(func() { _ = r.Stop(context.Background()) })

	x, err := r.Pipeline().Run(ctx, "core.local", map[string]any{"cmd": "sleep 60"}, 0)
	require.NoError(t, err)
	waitFor(t, "the action running", 20*time.Second, func() bool {
		x, err = d.AutoCommit().Execution(ctx, x.ID)
		require.NoError(t, err)
		return x.Status == attune.StatusRunning
	})
	ws, err := d.AutoCommit().Workers(ctx)
	require.NoError(t, err)
	require.Len(t, ws, 1, "the heartbeat records the replica")
	require.Equal(t, "rules,workers", ws[0].Roles)

	require.NoError(t, r.Stop(ctx))
	x, err = d.AutoCommit().Execution(ctx, x.ID)
	require.NoError(t, err)
	require.Equal(t, attune.StatusAbandoned, x.Status)
	require.Contains(t, x.Error, "worker stopping shut down before the action finished")
	ws, err = d.AutoCommit().Workers(ctx)
	require.NoError(t, err)
	require.Empty(t, ws, "a replica stopped cleanly forgets itself")
}

// engine.New refuses bad knobs, naming each field, and passes the pipeline's own errors on.
func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	good := func() engine.Config {
		return engine.Config{Pipeline: jobs.Config{DB: &db.DB{}, Runtimes: runtimes.New(runtimes.Config{}), Worker: "w"}}
	}
	client, err := river.NewClient(riverpgxv5.New(nil), &river.Config{Schema: db.RiverSchema})
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		edit func(*engine.Config)
		want string
	}{
		{"unknown role", func(c *engine.Config) { c.Roles = []string{"workers", "woerkers"} },
			`engine.Config.Roles: unknown role "woerkers" (known: timers, rules, workers, api)`},
		{"negative grace", func(c *engine.Config) { c.ShutdownGrace = -time.Second }, "engine.Config.ShutdownGrace: must not be negative, got -1s"},
		{"negative poll", func(c *engine.Config) { c.FetchPollInterval = -time.Second }, "engine.Config.FetchPollInterval: must not be negative"},
		{"negative concurrency", func(c *engine.Config) { c.Concurrency = -1 }, "engine.Config.Concurrency: must not be negative, got -1"},
		{"silent too soon", func(c *engine.Config) { c.Heartbeat, c.SilentAfter = 2*time.Second, 5*time.Second },
			"engine.Config.SilentAfter: must be at least 3 times Heartbeat (2s), got 5s"},
		{"river given", func(c *engine.Config) { c.Pipeline.River = client }, "engine.Config.Pipeline.River: must be nil"},
		{"pipeline error", func(c *engine.Config) { c.Pipeline.Worker = "" }, "jobs.Config.Worker: is empty"},
		{"no database", func(c *engine.Config) { c.Pipeline.DB = nil }, "jobs.Config.DB: is nil"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := good()
			tc.edit(&cfg)
			r, err := engine.New(cfg)
			require.Nil(t, r)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
