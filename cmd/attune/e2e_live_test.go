package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// lockedBuffer is a bytes.Buffer safe to read while a process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// background runs one attune command without waiting; wait returns its exit code.
func (in *instance) background(args ...string) (stdout, stderr *lockedBuffer, wait func() int) {
	in.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir, cmd.Env = in.dir, in.env
	stdout, stderr = &lockedBuffer{}, &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	require.NoError(in.t, cmd.Start())
	var once sync.Once
	code := -1
	wait = func() int {
		once.Do(func() {
			err := cmd.Wait()
			code = 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
		})
		return code
	}
	in.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		wait()
	})
	return stdout, stderr, wait
}

// From the real binary, against a running replica: attune run prints output as it comes,
// execution tail follows an execution to its end, execution cancel stops a running action
// whichever way it treats SIGTERM (and refuses a finished one), and execution rerun runs one
// again with a parameter replaced.
func TestLiveOutputCancelAndRerunEndToEnd(t *testing.T) {
	in := newInstance(t)
	in.env = append(in.env, "ATTUNE_RUNTIMES_KILL_GRACE=1s")
	_, logs := in.start()
	url := in.dbURL()
	pack := filepath.Join(in.dir, "live")
	writeFiles(t, pack, map[string]string{
		"pack.yaml": "ref: live\nversion: 1.0.0\n",
		"actions/gated.yaml": "ref: gated\nentry_point: gated.sh\nparameter_format: dotenv\n" +
			"parameters:\n  dir: {type: string, required: true}\n",
		"actions/gated.sh":      "eval \"$(cat)\"\necho one\nwhile [ ! -e \"$dir/go\" ]; do sleep 0.02; done\necho two\n",
		"actions/graceful.yaml": "ref: graceful\nentry_point: graceful.sh\n",
		"actions/graceful.sh":   "trap 'echo got TERM; exit 0' TERM\necho started\nwhile :; do sleep 0.05; done\n",
		"actions/stubborn.yaml": "ref: stubborn\nentry_point: stubborn.sh\n",
		"actions/stubborn.sh":   "trap '' TERM\necho started\nwhile :; do sleep 0.05; done\n",
	})
	out, errOut, code := in.attune("pack", "register", pack)
	require.Equal(t, 0, code, "pack register: %s %s", out, errOut)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	latest := func(action string) int64 {
		var id int64
		require.Eventually(t, func() bool {
			return conn.QueryRow(ctx, `SELECT id FROM attune.execution WHERE action_ref = $1 ORDER BY id DESC LIMIT 1`, action).Scan(&id) == nil
		}, 15*time.Second, 50*time.Millisecond)
		return id
	}

	// attune run prints the first line while the action still waits to print the second.
	gate := t.TempDir()
	require.NoError(t, os.Chmod(gate, 0o777))
	stdout, stderr, wait := in.background("run", "live.gated", "dir="+gate)
	require.Eventually(t, func() bool { return stdout.String() == "one\n" }, 30*time.Second, 20*time.Millisecond,
		"attune run printed %q %q; logs:\n%s", stdout, stderr, logs)
	require.NoError(t, os.WriteFile(filepath.Join(gate, "go"), nil, 0o644))
	require.Equal(t, 0, wait(), stderr.String())
	require.Equal(t, "one\ntwo\n", stdout.String())
	gated := latest("live.gated")

	// A finished execution cannot be cancelled.
	_, errOut, code = in.attune("execution", "cancel", strconv.FormatInt(gated, 10))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "already completed (completed)")

	// Cancel a running action, followed by tail, whether it traps SIGTERM or ignores it.
	for _, tc := range []struct{ action, output string }{
		{"live.graceful", "started\ngot TERM\n"},
		{"live.stubborn", "started\n"},
	} {
		_, runErr, runWait := in.background("run", tc.action)
		id := latest(tc.action)
		tailOut, _, tailWait := in.background("execution", "tail", "last")
		require.Eventually(t, func() bool { return tailOut.String() == "started\n" }, 30*time.Second, 20*time.Millisecond,
			"%s: tail printed %q", tc.action, tailOut)
		out, errOut, code = in.attune("execution", "cancel", strconv.FormatInt(id, 10))
		require.Equal(t, 0, code, errOut)
		require.Equal(t, "execution "+strconv.FormatInt(id, 10)+" cancelled\n", out)
		require.Equal(t, 1, tailWait(), "tail exits as run would")
		require.Equal(t, tc.output, tailOut.String())
		require.Equal(t, 1, runWait())
		require.Contains(t, runErr.String(), "cancelled: cancelled by cli:")
	}

	// Re-run the gated execution with another directory, already open.
	gate2 := t.TempDir()
	require.NoError(t, os.Chmod(gate2, 0o777))
	require.NoError(t, os.WriteFile(filepath.Join(gate2, "go"), nil, 0o644))
	out, errOut, code = in.attune("execution", "rerun", strconv.FormatInt(gated, 10), "dir="+gate2, "--json")
	require.Equal(t, 0, code, errOut)
	var x struct {
		ID         int64          `json:"id"`
		RerunOf    int64          `json:"rerun_of"`
		Status     string         `json:"status"`
		Parameters map[string]any `json:"parameters"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &x))
	require.Equal(t, gated, x.RerunOf)
	require.Equal(t, "completed", x.Status)
	require.Equal(t, gate2, x.Parameters["dir"])
	out, _, code = in.attune("execution", "get", strconv.FormatInt(x.ID, 10))
	require.Equal(t, 0, code)
	require.Contains(t, out, "rerun of:    "+strconv.FormatInt(gated, 10))
	require.True(t, strings.Contains(out, "one\\ntwo\\n"), out)
}
