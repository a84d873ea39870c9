package runtimes

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// A work directory that others may write to is refused, with the command that fixes it, and
// nothing runs from it.
func TestWorkDirOpenToOthersIsRefused(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "actions")
	require.NoError(t, os.Mkdir(dir, 0o777))
	require.NoError(t, os.Chmod(dir, 0o777)) // past the umask

	err := PrepareWorkDir(dir)
	require.Error(t, err)
	require.Contains(t, err.Error(), "mode 0777")
	require.Contains(t, err.Error(), "fix it with: chmod 0700 "+dir)

	b := setup(t, func(c *Config) { c.WorkDir = dir })
	res, err := b.set.Run(context.Background(), b.request(`touch "$ATTUNE_TEST_DIR/ran"`))
	require.Error(t, err)
	require.Equal(t, attune.StatusFailed, res.Status)
	require.Contains(t, res.Error, "chmod 0700 "+dir)
	require.NoFileExists(t, filepath.Join(b.dir, "ran"))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "no script was written there")
}

// A work directory owned by another user is refused, with the command that fixes it.
func TestWorkDirOfAnotherUserIsRefused(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	nobody, err := user.Lookup("nobody")
	require.NoError(t, err)
	uid, err := strconv.Atoi(nobody.Uid)
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "actions")
	require.NoError(t, os.Mkdir(dir, 0o700))
	require.NoError(t, os.Chown(dir, uid, -1))

	err = PrepareWorkDir(dir)
	require.Error(t, err)
	require.Contains(t, err.Error(), "owned by nobody")
	require.Contains(t, err.Error(), "fix it with: chown root "+dir+" && chmod 0700 "+dir)
}

// A missing work directory is created 0700, its missing parents too.
func TestWorkDirIsCreatedPrivate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data", "actions")
	require.NoError(t, PrepareWorkDir(dir))
	for _, d := range []string{dir, filepath.Dir(dir)} {
		fi, err := os.Stat(d)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), d)
	}
}

// A cached script changed after attune wrote it (its content, a symlink in its place, its mode,
// its directory's mode) is noticed, logged and written again before the run: what runs is the
// action's own entry point, from a private regular file.
func TestTamperedEntryPointIsRewrittenNotRun(t *testing.T) {
	t.Parallel()
	script := "echo original\n"
	evil := "echo tampered; touch \"$ATTUNE_TEST_DIR/pwned\"\n"
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, path string)
	}{
		{"content changed", func(t *testing.T, path string) {
			require.NoError(t, os.Chmod(path, 0o700))
			require.NoError(t, os.WriteFile(path, []byte(evil), 0o700))
		}},
		{"symlink to a file with the same content", func(t *testing.T, path string) {
			// The same content when checked; whoever owns the target can change it before the run.
			target := filepath.Join(t.TempDir(), "theirs.sh")
			require.NoError(t, os.WriteFile(target, []byte(script), 0o777))
			require.NoError(t, os.Remove(path))
			require.NoError(t, os.Symlink(target, path))
		}},
		{"file made writable by others", func(t *testing.T, path string) {
			require.NoError(t, os.Chmod(path, 0o777))
		}},
		{"directory opened to others", func(t *testing.T, path string) {
			require.NoError(t, os.Chmod(filepath.Dir(path), 0o777))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			b := setup(t, func(c *Config) {
				c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
			})
			ctx := context.Background()
			res := b.run(t, ctx, b.request(script))
			require.Equal(t, "original\n", res.Stdout)
			sum := filepath.Join(b.cfg.WorkDir, sha256Hex(script))
			path := filepath.Join(sum, "action.sh")
			require.FileExists(t, path)

			tc.tamper(t, path)
			res = b.run(t, ctx, b.request(script))
			require.Equal(t, attune.StatusCompleted, res.Status, "%s", res.Error)
			require.Equal(t, "original\n", res.Stdout)
			require.NoFileExists(t, filepath.Join(b.dir, "pwned"))
			require.Contains(t, logs.String(), "cached entry point was changed after attune wrote it")

			fi, err := os.Lstat(path)
			require.NoError(t, err)
			require.True(t, fi.Mode().IsRegular(), "a regular file again, not %s", fi.Mode())
			require.Equal(t, os.FileMode(0o500), fi.Mode().Perm())
			require.Equal(t, uint32(os.Geteuid()), fi.Sys().(*syscall.Stat_t).Uid)
			di, err := os.Lstat(sum)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o700), di.Mode().Perm())
		})
	}
}

// sha256Hex is the name of the content-addressed directory of content.
func sha256Hex(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}
