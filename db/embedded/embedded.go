package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Options configure the private cluster.
type Options struct {
	// DataDir is attune's data directory, e.g. ./.attune; the cluster lives in DataDir/pg.
	DataDir string
	// BinDir is where initdb, pg_ctl and postgres live. Empty means: the directory of initdb on
	// PATH, else `pg_config --bindir`, else the newest of /usr/lib/postgresql/*/bin,
	// /usr/pgsql-*/bin, /opt/homebrew/opt/postgresql@*/bin and /usr/local/opt/postgresql@*/bin.
	BinDir string
	// Logger receives "initialised", "started" and "stopped" records; nil discards them.
	Logger *slog.Logger
}

// ErrNotRunning is returned by RunningURL when no cluster is running for the data directory.
var ErrNotRunning = errors.New("embedded postgres is not running")

// stopTimeout bounds the stop of a server that Acquire started but could not hand out.
const stopTimeout = 90 * time.Second

// cluster is the private cluster of one data directory and how to run its binaries.
type cluster struct {
	dataDir      string // absolute
	pgDir        string // dataDir/pg
	logFile      string // dataDir/pg.log
	passwordFile string // dataDir/pg-password
	clusterLock  string // dataDir/cluster.lock
	usersLock    string // dataDir/users.lock
	binDir       string
	user         clusterUser
	logger       *slog.Logger
}

// newCluster resolves opts into a cluster: it creates the data directory, finds the binaries
// and the user the cluster runs as, and checks that user can reach the data directory.
func newCluster(ctx context.Context, opts Options) (*cluster, error) {
	if opts.DataDir == "" {
		return nil, errors.New("embedded postgres: no data directory given")
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", opts.DataDir, err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dataDir, err)
	}
	binDir, err := findBinDir(ctx, opts.BinDir)
	if err != nil {
		return nil, err
	}
	user, err := lookupClusterUser()
	if err != nil {
		return nil, err
	}
	if err := user.ensureReachable(dataDir); err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &cluster{
		dataDir:      dataDir,
		pgDir:        filepath.Join(dataDir, "pg"),
		logFile:      filepath.Join(dataDir, "pg.log"),
		passwordFile: filepath.Join(dataDir, "pg-password"),
		clusterLock:  filepath.Join(dataDir, "cluster.lock"),
		usersLock:    filepath.Join(dataDir, "users.lock"),
		binDir:       binDir,
		user:         user,
		logger:       logger.With("component", "embedded_postgres"),
	}, nil
}

// Acquire makes sure the cluster for opts.DataDir is initialised and running and registers the
// caller as a user. It initialises (initdb) on first use, starts it when it is not running, and
// otherwise connects to the running one. Call Release on the returned Handle when done; the last
// user to release stops the server.
func Acquire(ctx context.Context, opts Options) (*Handle, error) {
	c, err := newCluster(ctx, opts)
	if err != nil {
		return nil, err
	}
	lock, err := lockFile(ctx, c.clusterLock, syscall.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer unlockFile(lock)

	ok, err := c.initialised()
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := c.initialise(ctx); err != nil {
			return nil, err
		}
	}

	pf, running := runningServer(ctx, c.pgDir)
	started := false
	if !running {
		if pf, err = c.start(ctx); err != nil {
			return nil, err
		}
		started = true
	}
	h, err := c.register(ctx, pf, started)
	if err != nil && started {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		defer cancel()
		if stopErr := c.stop(stopCtx, pf); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
	}
	return h, err
}

// register finishes Acquire once the server runs: it creates the attune database after a start
// and takes the shared users.lock for the new Handle. Callers hold cluster.lock, so the shared
// lock never waits on a Release deciding whether to stop.
func (c *cluster) register(ctx context.Context, pf pidFile, started bool) (*Handle, error) {
	if started {
		if err := ensureDatabase(ctx, pf); err != nil {
			return nil, err
		}
	}
	users, err := lockFile(ctx, c.usersLock, syscall.LOCK_SH)
	if err != nil {
		return nil, err
	}
	dirID, err := fileID(c.dataDir)
	if err != nil {
		unlockFile(users)
		return nil, err
	}
	return &Handle{
		cluster: c,
		url:     socketURL(pf.socketDir, pf.port, database),
		started: started,
		users:   users,
		pid:     pf.pid,
		dirID:   dirID,
	}, nil
}

// RunningURL returns the URL of the cluster running for dataDir, or ErrNotRunning (wrapped with
// a helpful message). It neither starts the server nor registers the caller as a user.
func RunningURL(dataDir string) (string, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", fmt.Errorf("data directory %s: %w", dataDir, err)
	}
	pf, ok := runningServer(context.Background(), filepath.Join(abs, "pg"))
	if !ok {
		return "", fmt.Errorf("no embedded postgres answers for data directory %s (is `attune start` running? its log is %s): %w",
			abs, filepath.Join(abs, "pg.log"), ErrNotRunning)
	}
	return socketURL(pf.socketDir, pf.port, database), nil
}
