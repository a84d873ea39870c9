package main_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// attune start refuses a runtimes.work_dir that other users may write to, saying how to fix it,
// and then starts once it is fixed, writing its scripts there.
func TestStartRefusesAnOpenWorkDir(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	dir := filepath.Join(in.dir, "actions")
	require.NoError(t, os.Mkdir(dir, 0o777))
	require.NoError(t, os.Chmod(dir, 0o777))
	in.env = append(in.env, "ATTUNE_RUNTIMES_WORK_DIR="+dir)

	_, stderr, code := in.attune("start", "--roles", "workers")
	require.NotEqual(t, 0, code)
	require.Contains(t, stderr, "runtimes.work_dir: work directory "+dir+" has mode 0777")
	require.Contains(t, stderr, "fix it with: chmod 0700 "+dir)

	require.NoError(t, os.Chmod(dir, 0o700))
	_, logs := in.start()
	require.Eventually(t, func() bool {
		stdout, _, code := in.attune("run", "core.echo", "message=hi")
		return code == 0 && stdout != ""
	}, 60*time.Second, 200*time.Millisecond, "attune run core.echo never succeeded; logs:\n%s", logs)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.NotEmpty(t, entries, "the worker wrote core.echo's script there")
}
