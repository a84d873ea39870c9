package embedded_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/db/embedded"
)

// testDataDir returns a fresh data directory that the postgres user can reach when the tests
// run as root (t.TempDir is 0700 all the way down, so it cannot be used).
func testDataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "attune-embedded-test-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return filepath.Join(dir, "data")
}

// skipShort skips tests that start a cluster in -short mode (`make test-short`).
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster; skipped in -short mode")
	}
}

// acquire is embedded.Acquire that releases in t.Cleanup (a second Release is a no-op).
func acquire(t *testing.T, opts embedded.Options) *embedded.Handle {
	t.Helper()
	h, err := embedded.Acquire(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, h.Release(context.Background())) })
	return h
}

// queryInt runs a query returning one integer on a new connection to url.
func queryInt(t *testing.T, url, sql string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var n int
	require.NoError(t, conn.QueryRow(t.Context(), sql).Scan(&n))
	return n
}

func TestAcquire(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dataDir := testDataDir(t)

	first := acquire(t, embedded.Options{DataDir: dataDir})
	require.True(t, first.Started())
	require.Equal(t, 1, queryInt(t, first.URL(), "SELECT 1"))
	require.FileExists(t, filepath.Join(dataDir, "pg-password"))

	t.Run("URLWorksWithPsql", func(t *testing.T) {
		psql, err := exec.LookPath("psql")
		if err != nil {
			t.Skip("psql not installed")
		}
		out, err := exec.CommandContext(t.Context(), psql, first.URL(), "-tAc", "select current_database()").CombinedOutput()
		require.NoError(t, err, string(out))
		require.Equal(t, "attune", strings.TrimSpace(string(out)))
	})

	url, err := embedded.RunningURL(dataDir)
	require.NoError(t, err)
	require.Equal(t, first.URL(), url)

	second := acquire(t, embedded.Options{DataDir: dataDir})
	require.False(t, second.Started(), "the second user finds the server running")
	require.Equal(t, first.URL(), second.URL())

	require.NoError(t, first.Release(t.Context()))
	require.Equal(t, 1, queryInt(t, second.URL(), "SELECT 1"), "server keeps running while a user remains")

	require.NoError(t, second.Release(t.Context()))
	_, err = embedded.RunningURL(dataDir)
	require.ErrorIs(t, err, embedded.ErrNotRunning, "the last release stops the server")
	require.Contains(t, err.Error(), dataDir)

	require.NoError(t, second.Release(t.Context()), "releasing twice is fine")
}

func TestAcquireReusesDataAcrossRestarts(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dataDir := testDataDir(t)
	// What an initdb interrupted halfway leaves behind does not get in the way.
	require.NoError(t, os.MkdirAll(filepath.Join(dataDir, "pg.initdb", "base"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dataDir, "pg.initdb", "PG_VERSION"), []byte("15\n"), 0o600))

	h, err := embedded.Acquire(t.Context(), embedded.Options{DataDir: dataDir})
	require.NoError(t, err)
	require.NoDirExists(t, filepath.Join(dataDir, "pg.initdb"))
	conn, err := pgx.Connect(t.Context(), h.URL())
	require.NoError(t, err)
	_, err = conn.Exec(t.Context(), "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
	require.NoError(t, err)
	require.NoError(t, conn.Close(t.Context()))
	require.NoError(t, h.Release(t.Context()))

	again := acquire(t, embedded.Options{DataDir: dataDir})
	require.True(t, again.Started(), "the server was stopped, so it is started again")
	require.Equal(t, 42, queryInt(t, again.URL(), "SELECT n FROM kept"))
}

func TestAcquireConcurrentInitialisesOnce(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dataDir := testDataDir(t)
	var logs lockedBuffer
	opts := embedded.Options{DataDir: dataDir, Logger: slog.New(slog.NewTextHandler(&logs, nil))}

	const users = 4
	handles := make([]*embedded.Handle, users)
	errs := make([]error, users)
	var wg sync.WaitGroup
	for i := range users {
		wg.Go(func() { handles[i], errs[i] = embedded.Acquire(t.Context(), opts) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))

	started := 0
	for _, h := range handles {
		require.Equal(t, handles[0].URL(), h.URL())
		if h.Started() {
			started++
		}
	}
	require.Equal(t, 1, started)
	require.Equal(t, 1, strings.Count(logs.String(), "embedded postgres initialised"), logs.String())

	for _, h := range handles {
		require.NoError(t, h.Release(t.Context()))
	}
	require.Equal(t, 1, strings.Count(logs.String(), "embedded postgres stopped"), logs.String())
	_, err := embedded.RunningURL(dataDir)
	require.ErrorIs(t, err, embedded.ErrNotRunning)
}

func TestAcquireMissingBinaries(t *testing.T) {
	t.Parallel()
	_, err := embedded.Acquire(t.Context(), embedded.Options{DataDir: testDataDir(t), BinDir: t.TempDir()})
	require.ErrorIs(t, err, embedded.ErrBinariesNotFound)
	require.Contains(t, err.Error(), "apt-get install postgresql")
	require.Contains(t, err.Error(), "ATTUNE_DATABASE_URL")
}

func TestAcquireUnreachableDataDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the cluster to the postgres user")
	}
	t.Parallel()
	parent := t.TempDir() // mode 0700, owned by root
	_, err := embedded.Acquire(t.Context(), embedded.Options{DataDir: filepath.Join(parent, "data")})
	require.Error(t, err)
	require.Contains(t, err.Error(), "chmod o+x")
	require.Contains(t, err.Error(), "database.url")
	require.Contains(t, err.Error(), filepath.Dir(parent))
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of a shared logger.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
