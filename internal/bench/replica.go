package bench

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/engine"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/registry"
)

// Replica is an attune replica running in the bench's own process, built as `attune start`
// builds one (cmd/attune builds it through engine.New), on one phase's database.
type Replica struct {
	Engine *engine.Replica
	DB     *db.DB
	// ServeAPI serves the api role's HTTP API, as `attune start` does once River runs, and
	// returns the address it listens on (a free loopback port) and how to shut it down. Nil:
	// the replica has no api role.
	ServeAPI func(ctx context.Context) (addr string, shutdown func())
	// Close closes the replica's pool (and whatever else it opened). Call it after the engine
	// stopped.
	Close func()
	// APIAddr is where the HTTP API listens (host:port) once Start served it; empty without
	// ServeAPI.
	APIAddr string

	// P, Registry and River are Engine's.
	P        *jobs.Pipeline
	Registry *registry.Registry
	River    *river.Client[pgx.Tx]

	stopAPI func()
}

// NewReplica returns the bench's view of a replica of the engine on d.
func NewReplica(e *engine.Replica, d *db.DB) *Replica {
	return &Replica{Engine: e, DB: d, P: e.Pipeline(), Registry: e.Registry(), River: e.River()}
}

// StartFunc builds a replica on the database at url working the queues of roles (none: an
// insert-only replica). It does not start it; Replica.Start does.
type StartFunc func(ctx context.Context, url string, roles []string) (*Replica, error)

// Start starts the engine (River, the heartbeat, the reaper, the cancel watcher), and serves the
// API when the replica has the api role.
func (r *Replica) Start(ctx context.Context) error {
	if err := r.Engine.Start(ctx); err != nil {
		return err
	}
	if r.ServeAPI != nil {
		r.APIAddr, r.stopAPI = r.ServeAPI(ctx)
	}
	return nil
}

// Stop stops the engine without waiting for a backlog (running jobs are cancelled after the
// replica's shutdown grace, which the bench keeps short) and closes the pool.
func (r *Replica) Stop() {
	if r.stopAPI != nil { // as attune start: stop accepting, let requests finish, then River
		r.stopAPI()
		r.stopAPI = nil
	}
	_ = r.Engine.Stop(context.Background())
	if r.Close != nil {
		r.Close()
	}
}
