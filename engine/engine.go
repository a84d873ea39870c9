// Package engine assembles one attune replica, the same way for `attune start`, the other CLI
// commands that work a role for their duration, the test harness (internal/attunetest) and the
// bench: the pipeline (jobs.New), the timers, the registry, the River client working the queues
// of the replica's roles with their periodic jobs, the heartbeat, the reaper, the cancel
// watcher, and an orderly shutdown. cmd/attune keeps flags, configuration, printing and
// signals; this package keeps none of them.
//
// Two River clients are built, in this order, and nothing is assigned after construction:
// first an insert-only client (no workers, no queues) that the pipeline inserts and cancels
// jobs with; then, once the pipeline and the timers exist, the client that works the queues,
// whose workers hold them. A replica with no role builds only the first.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/registry"
	"github.com/attune-run/attune/sensors"
)

// Replica is one attune replica: the pipeline and what works it. New builds it; Start runs it;
// Stop ends it.
type Replica struct {
	cfg      Config
	log      *slog.Logger
	p        *jobs.Pipeline
	timers   *sensors.Timers
	registry *registry.Registry
	river    *river.Client[pgx.Tx] // works the queues of the roles; the inserter when none
	works    bool                  // the replica works some queue: River must start

	mu         sync.Mutex
	started    bool
	stopReaper func()
	stopBeat   func()
	stopWatch  func()
}

// New validates cfg and builds a replica: nothing runs until Start.
func New(cfg Config) (*Replica, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Pipeline.DB == nil {
		return nil, errors.New("jobs.Config.DB: is nil: open the database first (db.Open)")
	}
	driver := riverpgxv5.New(cfg.Pipeline.DB.Pool)
	inserter, err := river.NewClient(driver, &river.Config{
		Schema: db.RiverSchema, Logger: cfg.RiverLog, TestOnly: cfg.TestOnly,
		// Insert notifications are throttled per queue to one per FetchCooldown, as the
		// working client's would be.
		FetchCooldown: cfg.FetchCooldown,
	})
	if err != nil {
		return nil, fmt.Errorf("river insert client: %w", err)
	}
	log := cfg.Pipeline.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pc := cfg.Pipeline
	pc.River, pc.Log = inserter, log.With("component", "pipeline")
	p, err := jobs.New(pc)
	if err != nil {
		return nil, err
	}
	r := &Replica{cfg: cfg, log: log, p: p, river: inserter}
	r.timers = &sensors.Timers{P: p, Log: log.With("component", "timers"), Now: cfg.Pipeline.Now}
	r.registry = registry.New(p, r.timers, log.With("component", "registry"))
	queues, periodic := r.queues()
	if len(queues) == 0 {
		return r, nil
	}
	workers := river.NewWorkers()
	jobs.Register(workers, p)
	river.AddWorker(workers, &jobs.PruneWorker{P: p, Retention: cfg.Retention})
	sensors.Register(workers, r.timers)
	client, err := river.NewClient(driver, &river.Config{
		ID:                   cfg.Pipeline.Worker,
		Schema:               db.RiverSchema,
		Workers:              workers,
		Queues:               queues,
		PeriodicJobs:         periodic,
		Logger:               cfg.RiverLog,
		TestOnly:             cfg.TestOnly,
		FetchCooldown:        cfg.FetchCooldown,
		FetchPollInterval:    cfg.FetchPollInterval,
		RescueStuckJobsAfter: cfg.Pipeline.RescueAfter,
		// River's job retention, set explicitly: finished jobs stay long enough to audit the
		// job counts of recent executions, and River's cleaner deletes them after.
		CompletedJobRetentionPeriod: 24 * time.Hour,
		CancelledJobRetentionPeriod: 24 * time.Hour,
		DiscardedJobRetentionPeriod: 7 * 24 * time.Hour,
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	r.river, r.works = client, true
	return r, nil
}

// queues returns the River queues of the replica's roles and their periodic jobs: the timer
// reconciler with the timers role, the retention prune with the rules role (each also run once
// at start, by the River leader).
func (r *Replica) queues() (map[string]river.QueueConfig, []*river.PeriodicJob) {
	cfg := r.cfg
	queues := map[string]river.QueueConfig{}
	var periodic []*river.PeriodicJob
	if r.Has(RoleTimers) {
		queues[jobs.QueueTimers] = timersQueue(cfg)
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(cfg.ReconcileEvery),
			func() (river.JobArgs, *river.InsertOpts) { return jobs.TimerReconcileArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	if r.Has(RoleRules) {
		queues[jobs.QueueEvents] = river.QueueConfig{MaxWorkers: cfg.EventWorkers}
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(cfg.PruneEvery),
			func() (river.JobArgs, *river.InsertOpts) { return jobs.RetentionPruneArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	if r.Has(RoleWorkers) {
		for _, rt := range attune.Runtimes {
			n := cfg.Concurrency
			if rt == attune.RuntimeNoop {
				n = cfg.NoopConcurrency
			}
			queues[jobs.RuntimeQueue(rt)] = river.QueueConfig{MaxWorkers: n}
		}
	}
	return queues, periodic
}

// timersQueue is the River configuration of the timers queue. A fire job runs up to 5 s early
// and waits in its worker until its fire time; timers due together share one job. The short poll
// (20 ms, or FetchPollInterval when shorter) finds a job whose insert notification was missed,
// and TimerWorkers (100) leave room for many distinct fire times at once. See README "Tuning".
func timersQueue(cfg Config) river.QueueConfig {
	poll := 20 * time.Millisecond
	if cfg.FetchPollInterval > 0 {
		poll = min(poll, cfg.FetchPollInterval)
	}
	return river.QueueConfig{MaxWorkers: cfg.TimerWorkers, FetchPollInterval: max(poll, cfg.FetchCooldown)}
}

// Has reports whether the replica runs role.
func (r *Replica) Has(role string) bool { return slices.Contains(r.cfg.Roles, role) }

// Pipeline is the replica's pipeline.
func (r *Replica) Pipeline() *jobs.Pipeline { return r.p }

// Timers are the replica's timers (firing and reconciling).
func (r *Replica) Timers() *sensors.Timers { return r.timers }

// Registry registers packs and enables or disables rules through the replica's pipeline.
func (r *Replica) Registry() *registry.Registry { return r.registry }

// River is the client that works the replica's queues; with no role, the insert-only client.
func (r *Replica) River() *river.Client[pgx.Tx] { return r.river }

// Works reports whether the replica works some queue (it has a role other than api).
func (r *Replica) Works() bool { return r.works }

// Start runs the replica: River (when it works a queue), the heartbeat, the reaper (rules
// role) and the cancel watcher (workers role). ctx bounds nothing after Start returns: River's
// start context ends it abruptly when cancelled, so it is detached; Stop ends everything.
func (r *Replica) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("engine: replica already started")
	}
	if r.works {
		if err := r.river.Start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("start river: %w", err)
		}
	}
	r.started = true
	r.stopBeat = r.heartbeat(ctx)
	if r.Has(RoleRules) {
		r.stopReaper = r.loop(ctx, func(ctx context.Context) { every(ctx, r.cfg.SilentAfter/2, r.reap) })
	}
	if r.Has(RoleWorkers) {
		r.stopWatch = r.loop(ctx, func(ctx context.Context) { r.p.WatchCancels(ctx, r.cfg.Hub) })
	}
	return nil
}

// Stop ends the replica. The reaper stops first; River then stops fetching, and running
// actions may finish for ShutdownGrace, or until ctx is done (a second signal, say). The rest
// are cancelled: their processes are killed and their executions recorded abandoned (and
// retried if their policy says so). The heartbeat keeps beating meanwhile, so another
// replica's reaper does not take the running executions for lost; once River stopped, the
// replica forgets itself and the cancel watcher ends. The error says River did not stop.
func (r *Replica) Stop(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		return nil
	}
	r.started = false
	stop := func(f *func()) {
		if *f != nil {
			(*f)()
			*f = nil
		}
	}
	stop(&r.stopReaper)
	var err error
	if r.works {
		err = r.stopRiver(ctx)
	}
	stop(&r.stopWatch) // past River's stop: an action finishing in the grace can be cancelled
	stop(&r.stopBeat)
	return err
}

// stopRiver stops River within the grace, then cancels what still runs.
func (r *Replica) stopRiver(ctx context.Context) error {
	graceCtx, cancel := context.WithTimeout(ctx, r.cfg.ShutdownGrace)
	defer cancel()
	err := r.river.Stop(graceCtx)
	if err == nil {
		return nil
	}
	r.log.Warn("running actions did not finish in time; killing them", "grace", r.cfg.ShutdownGrace, "error", err)
	cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.Pipeline.KillGrace+15*time.Second)
	defer ccancel()
	if err := r.river.StopAndCancel(cctx); err != nil {
		return fmt.Errorf("river did not stop: %w", err)
	}
	return nil
}

// loop runs f in a goroutine until the returned func is called, which waits for f to return.
func (r *Replica) loop(ctx context.Context, f func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// heartbeat records that this replica is alive now and every Heartbeat until the returned func
// is called, which forgets the replica: stopped cleanly, nothing runs here any more.
func (r *Replica) heartbeat(ctx context.Context) (stop func()) {
	host, _ := os.Hostname()
	d := r.p.DB.AutoCommit()
	w := attune.Worker{Name: r.p.Worker, Roles: strings.Join(r.cfg.Roles, ","), Hostname: host, PID: os.Getpid()}
	beat := func(ctx context.Context) {
		if err := d.WorkerHeartbeat(ctx, w); err != nil && ctx.Err() == nil {
			r.log.Warn("heartbeat failed", "error", err)
		}
	}
	beat(context.WithoutCancel(ctx))
	stopLoop := r.loop(ctx, func(ctx context.Context) { every(ctx, r.cfg.Heartbeat, beat) })
	return func() {
		stopLoop()
		if err := d.WorkerForget(context.WithoutCancel(ctx), r.p.Worker); err != nil {
			r.log.Warn("forget worker", "error", err)
		}
	}
}

// every calls f every period until ctx ends.
func every(ctx context.Context, period time.Duration, f func(ctx context.Context)) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			f(ctx)
		}
	}
}

// reap abandons the running executions of replicas that went silent, and admits policy waiters
// whose slot came free; the reaper runs it every half of SilentAfter.
func (r *Replica) reap(ctx context.Context) {
	if _, err := r.p.Reap(ctx, r.cfg.SilentAfter); err != nil && ctx.Err() == nil {
		r.log.Warn("reaping silent workers failed", "error", err)
	}
	if err := r.p.AdmitWaiting(ctx); err != nil && ctx.Err() == nil {
		r.log.Warn("admitting policy waiters failed", "error", err)
	}
}
