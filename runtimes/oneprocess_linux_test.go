package runtimes

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

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
