package embedded

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
)

// Handle is one process's use of the cluster, from Acquire to Release. It holds a shared lock on
// DataDir/users.lock for its whole life.
type Handle struct {
	cluster *cluster
	url     string
	started bool

	mu    sync.Mutex
	users *os.File // shared flock on users.lock; nil once released
}

// URL returns the connection URL of database "attune" over the unix socket, as the superuser
// "attune"; pgx and psql both accept it, e.g.
// postgresql:///attune?host=/abs/path/.attune/sock&port=54321&user=attune.
func (h *Handle) URL() string { return h.url }

// Started reports whether the Acquire that returned h started the server (rather than finding
// it running).
func (h *Handle) Started() bool { return h.started }

// Release unregisters the caller; the last user to release stops the server
// (pg_ctl stop -m fast). It is safe to call twice: the second call does nothing. If ctx ends
// while Release waits for cluster.lock, the server is left running for the next user to stop.
func (h *Handle) Release(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.users == nil {
		return nil
	}
	unlockFile(h.users)
	h.users = nil

	c := h.cluster
	lock, err := lockFile(ctx, c.clusterLock, syscall.LOCK_EX)
	if err != nil {
		return fmt.Errorf("release embedded postgres: %w", err)
	}
	defer unlockFile(lock)

	excl, last, err := tryLockFile(c.usersLock, syscall.LOCK_EX)
	if err != nil {
		return fmt.Errorf("release embedded postgres: %w", err)
	}
	if !last {
		c.logger.DebugContext(ctx, "embedded postgres still in use, leaving it running", "data_dir", c.dataDir)
		return nil
	}
	defer unlockFile(excl)

	pf, err := readPIDFile(c.pgDir)
	if err != nil || !pf.alive() {
		return nil // already stopped
	}
	return c.stop(ctx, pf)
}
