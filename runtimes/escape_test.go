//go:build linux

package runtimes

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/attune-run/attune"
)

// reaped reports whether pid is gone for good: not running, and not a zombie either.
func reaped(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// Processes an action detaches from its process group (setsid, a double fork, with or without
// its output pipes) do not outlive the run: when it ends, however it ends, they are killed and
// reaped.
func TestRunKillsDetachedProcesses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, script string
		timeout      time.Duration
		status       attune.ExecutionStatus
	}{
		{"setsid", `setsid sleep 1000 >/dev/null 2>&1 &
echo $! > "$ATTUNE_TEST_DIR/escaped.pid"
`, 30 * time.Second, attune.StatusCompleted},
		{"setsid holding stdout", `setsid sleep 1000 &
echo $! > "$ATTUNE_TEST_DIR/escaped.pid"
`, 30 * time.Second, attune.StatusCompleted},
		{"double fork", `setsid sh -c 'sleep 1000 & echo $! > "$ATTUNE_TEST_DIR/escaped.pid"' >/dev/null 2>&1 &
wait
`, 30 * time.Second, attune.StatusCompleted},
		{"double fork with its own children", `setsid sh -c 'sh -c "sleep 1000" & echo $! > "$ATTUNE_TEST_DIR/escaped.pid"; wait' >/dev/null 2>&1 &
sleep 0.2
`, 30 * time.Second, attune.StatusCompleted},
		{"timed out", `setsid sleep 1000 >/dev/null 2>&1 &
echo $! > "$ATTUNE_TEST_DIR/escaped.pid"
sleep 1000
`, time.Second, attune.StatusTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			req := b.request(tc.script)
			req.Timeout = tc.timeout
			res := b.run(t, context.Background(), req)
			require.Equal(t, tc.status, res.Status, "%s", res.Error)
			pid := b.waitPID(t, "escaped.pid")
			require.False(t, alive(pid), "process %d outlived its run", pid)
			require.Eventually(t, func() bool { return reaped(pid) }, 2*time.Second, 10*time.Millisecond,
				"process %d was not reaped", pid)
		})
	}
}

// An orphan that exits on its own while the action still runs is reaped by the worker, its
// subreaper, and exit statuses of the actions themselves are still right.
func TestRunReapsOrphans(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := b.run(t, context.Background(), b.request(`sh -c 'sleep 0.1 & echo $! > "$ATTUNE_TEST_DIR/orphan.pid"'
setsid sh -c 'sleep 0.1 & echo $! > "$ATTUNE_TEST_DIR/detached.pid"' &
sleep 0.5
exit 7
`))
	require.Equal(t, attune.StatusFailed, res.Status)
	require.Equal(t, 7, res.ExitCode)
	for _, name := range []string{"orphan.pid", "detached.pid"} {
		pid := b.waitPID(t, name)
		require.Eventually(t, func() bool { return reaped(pid) }, 2*time.Second, 10*time.Millisecond,
			"%s %d is left a zombie", name, pid)
	}
}

// Once it has run an action, the worker is not dumpable: an action of the same (non-root) user
// cannot read its environment or memory through /proc, nor ptrace it.
func TestWorkerIsNotDumpable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := b.run(t, context.Background(), b.request("true\n"))
	require.Equal(t, attune.StatusCompleted, res.Status)
	dumpable, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	require.NoError(t, err)
	require.Equal(t, 0, dumpable)
}

// An action whose own process moves to another process group and ignores SIGTERM still times
// out: the group's SIGKILL is sent to the leader as well. The run used to wait for it forever.
func TestRunTimeoutKillsLeaderThatLeftItsGroup(t *testing.T) {
	t.Parallel()
	requirePython(t)
	b := setup(t)
	req := Request{
		Action: attune.Action{
			Ref: "test.leave", PackRef: "test", Runtime: attune.RuntimePython, EntryPoint: "leave.py",
			EntryContent: []byte("import os, signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n" +
				"os.setpgid(0, os.getpgid(os.getppid()))\nprint('left', flush=True)\ntime.sleep(1000)\n"),
		},
		Timeout: time.Second,
	}
	done := make(chan Result, 1)
	go func() { done <- b.run(t, context.Background(), req) }()
	select {
	case res := <-done:
		require.Equal(t, attune.StatusTimeout, res.Status, res.Error)
		require.Equal(t, "left\n", res.Stdout)
	case <-time.After(30 * time.Second):
		t.Fatal("the run never ended")
	}
}
