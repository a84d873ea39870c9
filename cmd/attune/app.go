package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/db/embedded"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/packs"
	"github.com/attune-run/attune/runtimes"
	"github.com/attune-run/attune/secrets"
	"github.com/attune-run/attune/sensors"
)

// app is one attune process's connection to its database and the pipeline built on it.
type app struct {
	cfg      *Config
	log      *slog.Logger
	db       *db.DB
	embedded *embedded.Handle // nil when database.url is set
	p        *jobs.Pipeline
	timers   *sensors.Timers
	river    *river.Client[pgx.Tx]
}

// open connects to the configured database, or acquires the embedded cluster under the data
// directory (starting it when none runs), and applies migrations when configured to.
func open(ctx context.Context, cfg *Config, log *slog.Logger, retry bool) (*app, error) {
	a := &app{cfg: cfg, log: log}
	url := cfg.Database.URL
	if url == "" {
		dir, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		h, err := embedded.Acquire(ctx, embedded.Options{DataDir: dir, Logger: log})
		if err != nil {
			return nil, err
		}
		a.embedded = h
		url = h.URL()
	}
	for attempt := 1; ; attempt++ {
		d, err := db.Open(ctx, url, db.Options{MaxConns: cfg.Database.MaxConns, PlanCacheMode: cfg.planCacheMode()})
		if err == nil {
			a.db = d
			break
		}
		if !retry || ctx.Err() != nil {
			a.close()
			return nil, err
		}
		wait := min(time.Duration(attempt)*time.Second, 15*time.Second)
		log.Warn("database not reachable; retrying", "error", err, "attempt", attempt, "retry_in", wait)
		select {
		case <-ctx.Done():
			a.close()
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
	if a.embedded != nil || cfg.Database.AutoMigrate {
		if _, err := db.Migrate(ctx, a.db.Pool, log.With("component", "migrate")); err != nil {
			a.close()
			return nil, err
		}
	}
	return a, nil
}

// close releases the database and, last one out, stops the embedded cluster.
func (a *app) close() {
	if a.db != nil {
		a.db.Close()
	}
	if a.embedded != nil {
		if err := a.embedded.Release(context.Background()); err != nil {
			a.log.Error("stop embedded postgres", "error", err)
		}
	}
}

// build wires the pipeline and a River client that works the queues of roles (none: an
// insert-only client).
func (a *app) build(roles []string) error {
	cfg := a.cfg
	workDir := cfg.Runtimes.WorkDir
	if workDir == "" {
		workDir = filepath.Join(os.TempDir(), "attune-actions")
	}
	a.p = &jobs.Pipeline{
		DB: a.db,
		Runtimes: runtimes.New(runtimes.Config{
			ShellInterpreter: cfg.Runtimes.Shell, PythonInterpreter: cfg.Runtimes.Python,
			OutputCap: cfg.Runtimes.OutputCap, KillGrace: cfg.Runtimes.KillGrace, WorkDir: workDir,
			Logger: a.log.With("component", "runtimes"),
		}),
		Worker:      cfg.Worker.Name,
		Log:         a.log.With("component", "pipeline"),
		RescueAfter: cfg.rescueAfter(),
		KillGrace:   cfg.Runtimes.KillGrace,
	}
	if cfg.Secrets.Key != "" {
		box, err := secrets.ParseKey(cfg.Secrets.Key)
		if err != nil {
			return err // Validate reported it already
		}
		a.p.Secrets = box
	}
	a.timers = &sensors.Timers{P: a.p, Log: a.log.With("component", "timers")}

	workers := river.NewWorkers()
	jobs.Register(workers, a.p)
	river.AddWorker(workers, &jobs.PruneWorker{P: a.p, Retention: time.Duration(cfg.Retention.Days) * 24 * time.Hour})
	sensors.Register(workers, a.timers)

	queues := map[string]river.QueueConfig{}
	var periodic []*river.PeriodicJob
	if slices.Contains(roles, RoleTimers) {
		queues[jobs.QueueTimers] = timersQueue(cfg.River)
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(30*time.Second),
			func() (river.JobArgs, *river.InsertOpts) { return jobs.TimerReconcileArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	if slices.Contains(roles, RoleRules) {
		queues[jobs.QueueEvents] = river.QueueConfig{MaxWorkers: 50}
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return jobs.RetentionPruneArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	if slices.Contains(roles, RoleWorkers) {
		for _, rt := range attune.Runtimes {
			n := cfg.Worker.Concurrency
			if rt == attune.RuntimeNoop {
				n = cfg.Worker.NoopConcurrency
			}
			queues[jobs.RuntimeQueue(rt)] = river.QueueConfig{MaxWorkers: n}
		}
	}
	rc := &river.Config{
		ID:                   cfg.Worker.Name,
		Schema:               db.RiverSchema,
		Workers:              workers,
		Logger:               riverLogger(a.cfg.Log),
		FetchCooldown:        cfg.River.FetchCooldown,
		FetchPollInterval:    cfg.River.FetchPollInterval,
		RescueStuckJobsAfter: cfg.rescueAfter(),
		// River's job retention, set explicitly: finished jobs stay long enough to audit the
		// job counts of recent executions, and River's cleaner deletes them after.
		CompletedJobRetentionPeriod: 24 * time.Hour,
		CancelledJobRetentionPeriod: 24 * time.Hour,
		DiscardedJobRetentionPeriod: 7 * 24 * time.Hour,
		PeriodicJobs:                periodic,
	}
	if len(queues) > 0 {
		rc.Queues = queues
	}
	client, err := river.NewClient(riverpgxv5.New(a.db.Pool), rc)
	if err != nil {
		return fmt.Errorf("river client: %w", err)
	}
	a.river, a.p.River = client, client
	return nil
}

// timersQueue is the River configuration of the timers queue. A fire job runs up to 5 s early
// and snoozes until its fire time, and a snoozed job due again sends no insert notification: only
// a poll finds it. So the poll interval of this queue is the timers' precision (20 ms, or the
// configured fetch_poll_interval when shorter), and it has room for 100 fires at once, so timers
// due together are fetched together rather than in waves. See README "Tuning".
func timersQueue(rc RiverConfig) river.QueueConfig {
	poll := max(min(rc.FetchPollInterval, 20*time.Millisecond), rc.FetchCooldown)
	return river.QueueConfig{MaxWorkers: 100, FetchPollInterval: poll}
}

// registerBuiltins registers the core pack, the demo pack when configured, and the packs named
// in packs.dirs.
func (a *app) registerBuiltins(ctx context.Context) error {
	core, err := packs.Core()
	if err != nil {
		return fmt.Errorf("core pack: %w", err)
	}
	all := []*attune.Pack{core}
	if a.cfg.Packs.Demo == "true" || (a.cfg.Packs.Demo == "auto" && a.embedded != nil) {
		demo, err := packs.Demo()
		if err != nil {
			return fmt.Errorf("demo pack: %w", err)
		}
		all = append(all, demo)
	}
	for _, dir := range a.cfg.Packs.Dirs {
		p, err := packs.LoadDirContext(ctx, dir, time.Now())
		if err != nil {
			return fmt.Errorf("pack %s:\n%w", dir, err)
		}
		all = append(all, p)
	}
	for _, p := range packs.InDependencyOrder(all) {
		a.cfg.applyPackConfig(p)
		if _, err := a.timers.RegisterPack(ctx, p); err != nil {
			return fmt.Errorf("register pack %s: %w", p.Ref, err)
		}
		a.log.Info("pack registered", "pack", p.Ref, "actions", len(p.Actions), "rules", len(p.Rules))
	}
	return nil
}

// liveReplica reports whether some replica running role was seen recently. A replica on this
// host whose process is gone does not count: a command such as attune run or attune event emit
// that worked a role for its duration leaves a fresh heartbeat behind when it exits.
func (a *app) liveReplica(ctx context.Context, role string) (bool, error) {
	ws, err := a.db.Read().Workers(ctx)
	if err != nil {
		return false, err
	}
	host, _ := os.Hostname()
	for _, w := range ws {
		if time.Since(w.LastSeenAt) >= a.cfg.Worker.SilentAfter || !containsRole(w.Roles, role) {
			continue
		}
		if w.Hostname == host && w.PID > 0 && !processAlive(w.PID) {
			continue
		}
		return true, nil
	}
	return false, nil
}

// processAlive reports whether a process with this pid exists on this host.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// riverLogger is River's own logger: warnings and errors only unless debugging, because River
// logs routine maintenance at info.
func riverLogger(cfg LogConfig) *slog.Logger {
	if cfg.Level != "debug" {
		cfg.Level = "warn"
	}
	return newLogger(cfg, os.Stderr).With("component", "river")
}
