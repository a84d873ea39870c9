package runtimes

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/attune-run/attune"
	"github.com/stretchr/testify/require"
)

// TestShellActionIsNotASecondShell checks that a shell action's process group holds one process,
// the script's shell, while the script runs builtins: no guard shell around it.
func TestShellActionIsNotASecondShell(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fifo := filepath.Join(b.dir, "go")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	done := make(chan Result, 1)
	go func() {
		res, _ := b.set.Run(context.Background(), b.request(`echo $$ > "$ATTUNE_TEST_DIR/pid"
read -r line < "$ATTUNE_TEST_DIR/go"
echo "got $line"`))
		done <- res
	}()
	pid := b.waitPID(t, "pid")
	pgid, err := syscall.Getpgid(pid)
	require.NoError(t, err)

	cmdlines := map[string]int{}
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if g, err := syscall.Getpgid(p); err != nil || g != pgid {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil {
			cmdlines[strings.ReplaceAll(string(cmdline), "\x00", " ")]++
		}
	}
	require.NoError(t, os.WriteFile(fifo, []byte("go\n"), 0o600))
	res := <-done

	require.Equal(t, attune.StatusCompleted, res.Status, res.Stderr)
	require.Equal(t, "got go\n", res.Stdout)
	require.Equal(t, 1, len(cmdlines), "the action's group ran more than one program: %v", cmdlines)
	for cmdline, n := range cmdlines {
		require.Equal(t, 1, n, "%d processes run %s", n, cmdline)
	}
}

// TestWatchdogIsRestarted kills the worker's watchdog while an action runs, then the worker: a
// new watchdog, told of the running group, still kills the action's own child.
func TestWatchdogIsRestarted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	worker := exec.Command(os.Args[0], "-test.run=^TestHelperWorker$", "-test.count=1")
	worker.Env = append(os.Environ(), "ATTUNE_RUNTIMES_HELPER_DIR="+dir)
	require.NoError(t, worker.Start())
	t.Cleanup(func() { _ = worker.Process.Kill(); _ = worker.Wait() })
	b := &testBundle{dir: dir}
	b.waitPID(t, "child.pid")
	grandchild := b.waitPID(t, "grandchild.pid")

	first := watchdogOf(t, worker.Process.Pid, 0)
	require.NoError(t, syscall.Kill(first, syscall.SIGKILL))
	watchdogOf(t, worker.Process.Pid, first)
	require.NoError(t, worker.Process.Kill())
	_ = worker.Wait()

	require.Eventually(t, func() bool { return !alive(grandchild) }, 5*time.Second, 10*time.Millisecond,
		"the action's own child outlived the worker")
}

// watchdogOf waits for the watchdog process of the worker with pid parent, other than not, and
// returns its pid.
func watchdogOf(t *testing.T, parent, not int) int {
	t.Helper()
	var found int
	require.Eventually(t, func() bool {
		entries, err := os.ReadDir("/proc")
		if err != nil {
			return false
		}
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == not {
				continue
			}
			st, err := readStat(pid)
			cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			if err == nil && st.ppid == parent && st.state != 'Z' && strings.Contains(string(cmdline), "attune-watchdog") {
				found = pid
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond, "no watchdog under worker %d", parent)
	return found
}
