package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
)

// Roles a replica can run.
const (
	RoleTimers  = "timers"  // fires timers and reconciles them (queue attune_timers)
	RoleRules   = "rules"   // processes events, announcements and retention; reaps silent workers
	RoleWorkers = "workers" // runs actions (one queue per runtime); watches for cancels
	RoleAPI     = "api"     // serves the HTTP API (cmd serves it): inserts jobs, works none
)

// Roles lists every role.
var Roles = []string{RoleTimers, RoleRules, RoleWorkers, RoleAPI}

// Defaults of the zero knobs of Config.
const (
	DefaultConcurrency    = 10
	DefaultEventWorkers   = 50
	DefaultTimerWorkers   = 100
	DefaultReconcileEvery = 30 * time.Second
	DefaultPruneEvery     = time.Hour
	DefaultRetention      = 30 * 24 * time.Hour
	DefaultHeartbeat      = 2 * time.Second
	// SilentBeats is how many heartbeats a replica may miss in a row before it counts as
	// lost: fewer would abandon the executions of a replica that is merely slow. The default
	// SilentAfter is SilentBeats heartbeats plus one.
	SilentBeats = 3
)

// Config is what New builds a replica from: the pipeline's own configuration, the roles, and
// plain knobs. The zero value of a knob means its default (see the Default constants), except
// ShutdownGrace, whose zero means no grace.
type Config struct {
	// Pipeline configures the pipeline (see jobs.Config). Leave Pipeline.River nil: New builds
	// the client the steps insert with. Pipeline.Log is the replica's logger: the pipeline, the
	// timers and the registry each log through it with their own "component".
	Pipeline jobs.Config
	// Roles are the roles this replica runs (Role constants); none: an insert-only replica that
	// works no queue, as a CLI command is.
	Roles []string
	// RiverLog receives River's own records; nil is Pipeline.Log.
	RiverLog *slog.Logger
	// TestOnly sets River's TestOnly (faster leader election, for tests).
	TestOnly bool

	// FetchCooldown and FetchPollInterval are River's (river.fetch_cooldown,
	// river.fetch_poll_interval); zero is River's default.
	FetchCooldown     time.Duration
	FetchPollInterval time.Duration
	// Concurrency is how many actions of one runtime run at once (worker.concurrency), and
	// NoopConcurrency the same for core.noop's runtime (worker.noop_concurrency; zero is
	// Concurrency).
	Concurrency     int
	NoopConcurrency int
	// EventWorkers and TimerWorkers size the events and timers queues.
	EventWorkers int
	TimerWorkers int

	// ReconcileEvery is how often the timers role restores lost fire jobs (and once at start).
	ReconcileEvery time.Duration
	// PruneEvery is how often the rules role deletes history older than Retention (and once at
	// start).
	PruneEvery time.Duration
	// Retention is how long history is kept (retention.days).
	Retention time.Duration

	// Heartbeat is how often the replica records that it is alive (worker.heartbeat).
	Heartbeat time.Duration
	// SilentAfter is how long a replica may go unheard before the rules role's reaper abandons
	// its running executions (worker.silent_after); the reaper runs every SilentAfter/2. It must
	// be at least SilentBeats heartbeats.
	SilentAfter time.Duration
	// ShutdownGrace is how long Stop lets running actions finish before it kills them
	// (shutdown.grace).
	ShutdownGrace time.Duration

	// Hub is the process's LISTEN connection, run by the caller: the cancel watcher wakes on its
	// notices. Nil: the watcher polls alone.
	Hub *db.Hub
}

// withDefaults returns cfg with each zero knob set to its default.
func (cfg Config) withDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defInt(&cfg.Concurrency, DefaultConcurrency)
	defInt(&cfg.NoopConcurrency, cfg.Concurrency)
	defInt(&cfg.EventWorkers, DefaultEventWorkers)
	defInt(&cfg.TimerWorkers, DefaultTimerWorkers)
	def(&cfg.ReconcileEvery, DefaultReconcileEvery)
	def(&cfg.PruneEvery, DefaultPruneEvery)
	def(&cfg.Retention, DefaultRetention)
	def(&cfg.Heartbeat, DefaultHeartbeat)
	def(&cfg.SilentAfter, (SilentBeats+1)*cfg.Heartbeat)
	if cfg.RiverLog == nil {
		cfg.RiverLog = cfg.Pipeline.Log
	}
	return cfg
}

// validate returns every field error of cfg (after defaults), joined, each naming the field.
func (cfg Config) validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("engine.Config.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if cfg.Pipeline.River != nil {
		bad("Pipeline.River", "must be nil: the engine builds the client the pipeline inserts with")
	}
	for _, r := range cfg.Roles {
		if !slices.Contains(Roles, r) {
			bad("Roles", "unknown role %q (known: %s)", r, strings.Join(Roles, ", "))
		}
	}
	durations := []struct {
		name string
		d    time.Duration
	}{
		{"FetchCooldown", cfg.FetchCooldown}, {"FetchPollInterval", cfg.FetchPollInterval},
		{"ReconcileEvery", cfg.ReconcileEvery}, {"PruneEvery", cfg.PruneEvery}, {"Retention", cfg.Retention},
		{"Heartbeat", cfg.Heartbeat}, {"SilentAfter", cfg.SilentAfter}, {"ShutdownGrace", cfg.ShutdownGrace},
	}
	for _, f := range durations {
		if f.d < 0 {
			bad(f.name, "must not be negative, got %s", f.d)
		}
	}
	counts := []struct {
		name string
		n    int
	}{
		{"Concurrency", cfg.Concurrency}, {"NoopConcurrency", cfg.NoopConcurrency},
		{"EventWorkers", cfg.EventWorkers}, {"TimerWorkers", cfg.TimerWorkers},
	}
	for _, f := range counts {
		if f.n < 0 {
			bad(f.name, "must not be negative, got %d", f.n)
		}
	}
	if cfg.Heartbeat > 0 && cfg.SilentAfter < SilentBeats*cfg.Heartbeat {
		bad("SilentAfter", "must be at least %d times Heartbeat (%s), got %s: a replica that is merely slow would be taken for lost",
			SilentBeats, cfg.Heartbeat, cfg.SilentAfter)
	}
	return errors.Join(errs...)
}

// DefaultRescueAfter is the rescue window for dispatch jobs when none is configured: a little
// more than the default action timeout plus the kill grace.
func DefaultRescueAfter(killGrace time.Duration) time.Duration {
	return time.Duration(attune.DefaultActionTimeoutSec)*time.Second + killGrace + time.Minute
}
