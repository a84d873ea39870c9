package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/registry"
	"github.com/attune-run/attune/sensors"
)

// Replica is an attune replica running in the bench's own process, wired exactly as
// `attune start` wires one (cmd/attune builds it), on one phase's database.
type Replica struct {
	DB     *db.DB
	P      *jobs.Pipeline
	Timers *sensors.Timers
	// Registry registers the bench's packs.
	Registry *registry.Registry
	River    *river.Client[pgx.Tx]
	// Heartbeat records the replica alive, as `attune start` does, until the returned func is
	// called; without it the reaper would take the replica's running executions for abandoned.
	// Nil: no heartbeat.
	Heartbeat func(ctx context.Context) (stop func())
	// ServeAPI serves the api role's HTTP API, as `attune start` does once River runs, and
	// returns the address it listens on (a free loopback port) and how to shut it down. Nil:
	// the replica has no api role.
	ServeAPI func(ctx context.Context) (addr string, shutdown func())
	// Close closes the replica's pool (and whatever else it opened). Call it after River stopped.
	Close func()
	// APIAddr is where the HTTP API listens (host:port) once Start served it; empty without
	// ServeAPI.
	APIAddr string

	started   bool
	stopBeats func()
	stopAPI   func()
}

// StartFunc builds a replica on the database at url working the queues of roles (none: an
// insert-only client). It does not start River; Replica.Start does.
type StartFunc func(ctx context.Context, url string, roles []string) (*Replica, error)

// Start starts working jobs, and serves the API when the replica has the api role. River's start context ends the client when cancelled, so it is
// detached from ctx; Stop ends it.
func (r *Replica) Start(ctx context.Context) error {
	if err := r.River.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start river: %w", err)
	}
	r.started = true
	if r.Heartbeat != nil {
		r.stopBeats = r.Heartbeat(ctx)
	}
	if r.ServeAPI != nil {
		r.APIAddr, r.stopAPI = r.ServeAPI(ctx)
	}
	return nil
}

// Stop stops River without waiting for a backlog (running jobs are cancelled after a short
// grace) and closes the pool.
func (r *Replica) Stop() {
	if r.stopAPI != nil { // as attune start: stop accepting, let requests finish, then River
		r.stopAPI()
		r.stopAPI = nil
	}
	if r.stopBeats != nil {
		r.stopBeats()
		r.stopBeats = nil
	}
	if r.started {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := r.River.Stop(ctx); err != nil {
			cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = r.River.StopAndCancel(cctx)
			ccancel()
		}
		cancel()
		r.started = false
	}
	if r.Close != nil {
		r.Close()
	}
}
