package embedded

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestSocketDirFor(t *testing.T) {
	t.Parallel()
	short := "/srv/attune/.attune"
	require.Equal(t, "/srv/attune/.attune/sock", socketDirFor(short))

	long := "/srv/" + strings.Repeat("deep/", 20) + ".attune"
	dir := socketDirFor(long)
	require.NotContains(t, dir, "deep")
	require.Contains(t, filepath.Base(dir), "attune-pg-")
	require.LessOrEqual(t, len(dir)+len(socketFileSuffix), maxSocketPath())
	require.Equal(t, dir, socketDirFor(long), "the same data directory always gets the same socket directory")
	require.NotEqual(t, dir, socketDirFor(long+"2"))
}

func TestSocketURL(t *testing.T) {
	t.Parallel()
	url := socketURL("/tmp/my dir&x/sock", 54321, "attune")
	require.Equal(t, "postgresql:///attune?host=/tmp/my%20dir%26x/sock&port=54321&user=attune", url)

	cfg, err := pgx.ParseConfig(url)
	require.NoError(t, err)
	require.Equal(t, "/tmp/my dir&x/sock", cfg.Host)
	require.Equal(t, uint16(54321), cfg.Port)
	require.Equal(t, "attune", cfg.User)
	require.Equal(t, "attune", cfg.Database)
}

func TestNewestFirst(t *testing.T) {
	t.Parallel()
	got := newestFirst([]string{"/usr/lib/postgresql/9.6/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/13/bin"})
	require.Equal(t, []string{"/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/13/bin", "/usr/lib/postgresql/9.6/bin"}, got)
}

func TestReadPIDFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	content := "4242\n/data/pg\n1700000000\n54321\n/data/sock\n127.0.0.1\n  1234  5678\nready   \n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte(content), 0o600))

	pf, err := readPIDFile(dir)
	require.NoError(t, err)
	require.Equal(t, pidFile{pid: 4242, port: 54321, socketDir: "/data/sock"}, pf)

	_, err = readPIDFile(t.TempDir())
	require.ErrorContains(t, err, "postmaster.pid")
}
