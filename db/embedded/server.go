package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	// pingTimeout bounds one attempt to reach a server over its socket.
	pingTimeout = 2 * time.Second
	// startAttempts is how often a start is tried with a fresh port when the chosen one was
	// taken between picking and binding it.
	startAttempts = 3
	// logTailBytes is how much of pg.log a failed start quotes.
	logTailBytes = 4 << 10
)

// pidFile is what postmaster.pid says about a server.
type pidFile struct {
	pid       int
	port      int
	socketDir string
}

// readPIDFile parses pgDir/postmaster.pid: line 1 is the pid, line 4 the port, line 5 the first
// unix socket directory.
func readPIDFile(pgDir string) (pidFile, error) {
	path := filepath.Join(pgDir, "postmaster.pid")
	b, err := os.ReadFile(path)
	if err != nil {
		return pidFile{}, fmt.Errorf("read %s: %w", path, err)
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 5 {
		return pidFile{}, fmt.Errorf("read %s: only %d lines, want at least 5", path, len(lines))
	}
	var pf pidFile
	if pf.pid, err = strconv.Atoi(strings.TrimSpace(lines[0])); err != nil {
		return pidFile{}, fmt.Errorf("read %s: pid on line 1: %w", path, err)
	}
	if pf.port, err = strconv.Atoi(strings.TrimSpace(lines[3])); err != nil {
		return pidFile{}, fmt.Errorf("read %s: port on line 4: %w", path, err)
	}
	if pf.socketDir = strings.TrimSpace(lines[4]); pf.socketDir == "" {
		return pidFile{}, fmt.Errorf("read %s: no unix socket directory on line 5", path)
	}
	return pf, nil
}

// alive reports whether the pid in the file names a live process. EPERM means it exists but
// belongs to another user, which is alive too.
func (pf pidFile) alive() bool {
	if pf.pid <= 0 {
		return false
	}
	err := syscall.Kill(pf.pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ping connects to the server's maintenance database over its socket.
func (pf pidFile) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, socketURL(pf.socketDir, pf.port, "postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.Ping(ctx)
}

// runningServer returns the server running for the cluster in pgDir: its postmaster.pid names a
// live process and its socket answers. A stale postmaster.pid is left for pg_ctl to deal with.
func runningServer(ctx context.Context, pgDir string) (pidFile, bool) {
	pf, err := readPIDFile(pgDir)
	if err != nil || !pf.alive() {
		return pidFile{}, false
	}
	if !pf.answers(ctx) {
		return pidFile{}, false
	}
	return pf, true
}

// answers reports whether the server accepts connections: it pings it, and an error reply other
// than "the database system is starting up / shutting down" (say, too many clients) counts as an
// answer too.
func (pf pidFile) answers(ctx context.Context) bool {
	err := pf.ping(ctx)
	var pgErr *pgconn.PgError
	return err == nil || errors.As(err, &pgErr) && pgErr.Code != "57P03"
}

// start starts the server with pg_ctl on a free port and waits until it accepts connections.
// Callers hold cluster.lock.
func (c *cluster) start(ctx context.Context) (pidFile, error) {
	sockDir := socketDirFor(c.dataDir)
	if err := c.prepareSocketDir(sockDir); err != nil {
		return pidFile{}, err
	}
	if err := c.prepareLogFile(); err != nil {
		return pidFile{}, err
	}
	if err := c.user.chownTree(c.pgDir); err != nil {
		return pidFile{}, err
	}
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return pidFile{}, err
		}
		logStart := fileSize(c.logFile)
		opts := fmt.Sprintf("-k %s -p %d -h 127.0.0.1 -c max_connections=200", shellQuote(sockDir), port)
		cmd := c.user.command(ctx, filepath.Join(c.binDir, "pg_ctl"), c.dataDir,
			"start", "-w", "-t", "60", "-D", c.pgDir, "-l", c.logFile, "-o", opts)
		if err := run(cmd); err != nil {
			tail := readFrom(c.logFile, logStart)
			if attempt < startAttempts && strings.Contains(tail, "could not bind") {
				continue
			}
			return pidFile{}, fmt.Errorf("start embedded postgres in %s: %w\n%s says:\n%s", c.pgDir, err, c.logFile, tail)
		}
		pf, err := readPIDFile(c.pgDir)
		if err != nil {
			return pidFile{}, fmt.Errorf("embedded postgres started but: %w", err)
		}
		c.logger.InfoContext(ctx, "embedded postgres started", "data_dir", c.dataDir, "port", pf.port, "pid", pf.pid, "socket_dir", pf.socketDir)
		return pf, nil
	}
}

// stop stops the server with `pg_ctl stop -m fast` and waits for it to exit, then removes a
// short socket directory from the temp directory. Callers hold cluster.lock.
func (c *cluster) stop(ctx context.Context, pf pidFile) error {
	cmd := c.user.command(ctx, filepath.Join(c.binDir, "pg_ctl"), c.dataDir,
		"stop", "-w", "-t", "60", "-m", "fast", "-D", c.pgDir)
	if err := run(cmd); err != nil {
		return fmt.Errorf("stop embedded postgres in %s: %w", c.pgDir, err)
	}
	if pf.socketDir != filepath.Join(c.dataDir, "sock") {
		_ = os.Remove(pf.socketDir) // only if empty; it is shared with nobody else
	}
	c.logger.InfoContext(ctx, "embedded postgres stopped", "data_dir", c.dataDir, "port", pf.port, "pid", pf.pid)
	return nil
}

// prepareLogFile creates pg.log for the cluster user, who may not create files in the data
// directory itself.
func (c *cluster) prepareLogFile() error {
	f, err := os.OpenFile(c.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("create postgres log %s: %w", c.logFile, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create postgres log %s: %w", c.logFile, err)
	}
	return c.user.chown(c.logFile)
}

// freePort asks the kernel for a free TCP port on 127.0.0.1. Another process may take it before
// postgres binds it; start retries then.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// shellQuote quotes s for /bin/sh, which pg_ctl hands the -o options to.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// fileSize returns the size of path, 0 when it cannot be read.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readFrom returns what was written to path after offset, at most its last logTailBytes.
func readFrom(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read: %v)", err)
	}
	defer f.Close()
	if size := fileSize(path); size-offset > logTailBytes {
		offset = size - logTailBytes
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return fmt.Sprintf("(cannot read: %v)", err)
	}
	b, _ := io.ReadAll(f)
	return strings.TrimSpace(string(b))
}
