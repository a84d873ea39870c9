package main_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rm -rf of the data directory under a running attune is noticed: attune logs an error, stops
// with a non-zero exit code, and stops its embedded PostgreSQL too.
func TestDeletedDataDirectoryStopsAttuneAndPostgres(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	cmd := exec.Command(binary, "start", "--log-format", "json")
	cmd.Dir, cmd.Env = in.dir, in.env
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	in.dbURL()

	dataDir := filepath.Join(in.dir, "data")
	b, err := os.ReadFile(filepath.Join(dataDir, "pg", "postmaster.pid"))
	require.NoError(t, err)
	pgPID, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Kill(pgPID, syscall.SIGKILL) })
	require.NoError(t, os.RemoveAll(dataDir))

	var exitErr error
	select {
	case exitErr = <-done:
	case <-time.After(90 * time.Second):
		t.Fatalf("attune start went on after its data directory was removed; logs:\n%s", &logs)
	}
	var ee *exec.ExitError
	require.True(t, errors.As(exitErr, &ee), "attune start exits non-zero: %v; logs:\n%s", exitErr, &logs)
	require.Equal(t, 1, ee.ExitCode())
	require.Contains(t, logs.String(), `"msg":"data directory lost: stopping attune and its embedded postgres"`)
	require.Contains(t, logs.String(), "the data directory was removed while attune ran")
	require.Eventually(t, func() bool {
		err := syscall.Kill(pgPID, 0)
		return errors.Is(err, syscall.ESRCH)
	}, 30*time.Second, 100*time.Millisecond, "postgres (pid %d) still runs; logs:\n%s", pgPID, &logs)
}
