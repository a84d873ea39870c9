package embedded

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Handle is one process's use of the cluster, from Acquire to Release. It holds a shared lock on
// DataDir/users.lock for its whole life.
type Handle struct {
	cluster *cluster
	url     string
	started bool

	mu    sync.Mutex
	users *os.File // shared flock on users.lock; nil once released

	pid   int       // the postmaster's, from postmaster.pid when acquired
	dirID [2]uint64 // device and inode of the data directory when acquired
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
	if h.lost() != nil {
		return h.stopLost(ctx)
	}
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

// Lost returns an error when the cluster's data directory is gone from under the server: the
// directory was removed or replaced, or postmaster.pid vanished from it. The server may still
// answer for a while, on files no one can see any more; the caller should stop, and Release
// then stops the server by its pid.
func (h *Handle) Lost() error { return h.lost() }

func (h *Handle) lost() error {
	c := h.cluster
	id, err := fileID(c.dataDir)
	if err != nil {
		return fmt.Errorf("data directory %s is gone: %w", c.dataDir, err)
	}
	if id != h.dirID {
		return fmt.Errorf("data directory %s was removed and created again", c.dataDir)
	}
	if _, err := os.Stat(filepath.Join(c.pgDir, "postmaster.pid")); err != nil {
		return fmt.Errorf("data directory %s lost the embedded cluster's postmaster.pid: %w", c.dataDir, err)
	}
	return nil
}

// lostStopTimeout bounds the wait for a server whose data directory is gone to exit, before it
// is killed.
const lostStopTimeout = 10 * time.Second

// stopLost stops a server whose data directory is gone, by signalling the pid it had when
// acquired: pg_ctl and the lock files went with the directory. It sends SIGQUIT (immediate
// shutdown: there is nothing left to checkpoint into), then SIGKILL if the server does not
// exit within lostStopTimeout.
func (h *Handle) stopLost(ctx context.Context) error {
	pf := pidFile{pid: h.pid}
	if !pf.alive() || !isPostgres(h.pid) {
		return nil
	}
	if err := syscall.Kill(h.pid, syscall.SIGQUIT); err != nil {
		return fmt.Errorf("stop embedded postgres (pid %d) of the lost data directory %s: %w", h.pid, h.cluster.dataDir, err)
	}
	deadline := time.Now().Add(lostStopTimeout)
	for pf.alive() && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	if pf.alive() {
		_ = syscall.Kill(h.pid, syscall.SIGKILL)
	}
	h.cluster.logger.WarnContext(ctx, "embedded postgres of a lost data directory stopped", "data_dir", h.cluster.dataDir, "pid", h.pid)
	return nil
}

// isPostgres reports whether pid runs postgres, so a pid reused since is never signalled. Where
// /proc is not there, it trusts the pid.
func isPostgres(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return !dirExists("/proc/self")
	}
	return strings.HasPrefix(strings.TrimSpace(string(b)), "postgres")
}

func dirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// fileID returns the device and inode of path, which tell a directory from one created again at
// the same path.
func fileID(path string) ([2]uint64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return [2]uint64{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return [2]uint64{}, nil
	}
	return [2]uint64{uint64(st.Dev), st.Ino}, nil
}
