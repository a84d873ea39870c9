package jobs

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/runtimes"
	"github.com/attune-run/attune/secrets"
)

// Config is what New builds a Pipeline from: plain knobs and the parts the steps use. The zero
// value of every optional knob means its default.
type Config struct {
	// DB is attune's database. Required.
	DB *db.DB
	// River is the client the steps insert the next job with (InsertTx) and cancel jobs with.
	// Required. It need not work any queue: the engine (package engine) builds an insert-only
	// client first, because the client that works the queues needs workers that already hold
	// the pipeline, and hands that one here. An insert-only client skips River's check that a
	// worker exists for each kind, so it inserts every kind.
	River *river.Client[pgx.Tx]
	// Runtimes runs actions. Required, even on a replica that runs none: registration prepares
	// pack virtualenvs through it.
	Runtimes *runtimes.Set
	// Worker is this replica's name, recorded on the executions it runs. Required.
	Worker string
	// Log receives the pipeline's records; nil discards them.
	Log *slog.Logger
	// Now is the clock of schedules and retention; nil is time.Now.
	Now func() time.Time

	// RescueAfter is River's RescueStuckJobsAfter for dispatch jobs: how long a dispatch may run
	// before its worker is presumed lost. Every action's timeout plus KillGrace plus a margin
	// must fit inside it; 0 disables that check (and leaves River's default window).
	RescueAfter time.Duration
	// KillGrace is the runtimes' SIGTERM-to-SIGKILL grace (runtimes.kill_grace).
	KillGrace time.Duration
	// Secrets seals secret parameters (secrets.key). Nil: an action given a secret parameter
	// is refused.
	Secrets *secrets.Box
	// OutputCap is how many bytes of each of stdout and stderr are stored as live output
	// (runtimes.output_cap); 0 means the runtimes' default.
	OutputCap int
	// MaxTaskRuns is workflows.max_task_runs; 0 means DefaultMaxTaskRuns.
	MaxTaskRuns int
	// BatchSize is pipeline.batch_size: how many concurrent steps of one kind at most share a
	// transaction (group commit); 0 means DefaultBatchSize, 1 turns batching off.
	BatchSize int
}

// New validates cfg and returns a ready pipeline. Every invalid field is reported at once,
// each error naming the field (jobs.Config.X), the value given and what to do.
func New(cfg Config) (*Pipeline, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pipeline{
		DB: cfg.DB, River: cfg.River, Runtimes: cfg.Runtimes, Worker: cfg.Worker, Log: log, Now: cfg.Now,
		RescueAfter: cfg.RescueAfter, KillGrace: cfg.KillGrace, Secrets: cfg.Secrets,
		OutputCap: cfg.OutputCap, MaxTaskRuns: cfg.MaxTaskRuns, BatchSize: cfg.BatchSize,
	}, nil
}

// validate returns every field error of cfg, joined.
func (cfg Config) validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("jobs.Config.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if cfg.DB == nil {
		bad("DB", "is nil: open the database first (db.Open)")
	}
	if cfg.River == nil {
		bad("River", "is nil: give the River client the steps insert jobs with (an insert-only client will do)")
	}
	if cfg.Runtimes == nil {
		bad("Runtimes", "is nil: build the runtimes with runtimes.New")
	}
	if cfg.Worker == "" {
		bad("Worker", "is empty: name this replica (worker.name)")
	}
	if cfg.RescueAfter < 0 {
		bad("RescueAfter", "must not be negative, got %s", cfg.RescueAfter)
	}
	if cfg.KillGrace < 0 {
		bad("KillGrace", "must not be negative, got %s", cfg.KillGrace)
	}
	if cfg.OutputCap < 0 {
		bad("OutputCap", "must not be negative, got %d", cfg.OutputCap)
	}
	if cfg.MaxTaskRuns < 0 {
		bad("MaxTaskRuns", "must not be negative, got %d", cfg.MaxTaskRuns)
	}
	if cfg.BatchSize < 0 {
		bad("BatchSize", "must not be negative, got %d (1 turns batching off)", cfg.BatchSize)
	}
	// The shortest action (a 1 s timeout) must fit: timeout + kill grace + the rescue margin.
	if need := time.Second + max(cfg.KillGrace, 0) + rescueMargin; cfg.RescueAfter > 0 && cfg.RescueAfter < need {
		bad("RescueAfter", "%s leaves no room for an action: it must hold an action's timeout plus the kill grace (%s) plus %s; raise it to at least %s",
			cfg.RescueAfter, cfg.KillGrace, rescueMargin, need)
	}
	return errors.Join(errs...)
}
