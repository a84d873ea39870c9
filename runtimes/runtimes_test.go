package runtimes

import (
	"context"
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

	"github.com/attune-run/attune"
)

// testBundle is what setup returns.
type testBundle struct {
	set *Set
	cfg Config
	dir string // a scratch directory scripts can write to, exported as ATTUNE_TEST_DIR
}

// setup returns a Set with a private work directory and a short kill grace, after applying
// opts to its config.
func setup(t *testing.T, opts ...func(*Config)) *testBundle {
	t.Helper()
	cfg := Config{WorkDir: filepath.Join(t.TempDir(), "work"), KillGrace: 200 * time.Millisecond}
	for _, opt := range opts {
		opt(&cfg)
	}
	return &testBundle{set: New(cfg), cfg: cfg, dir: t.TempDir()}
}

// request returns a request running script under the shell runtime, with ATTUNE_TEST_DIR set.
func (b *testBundle) request(script string) Request {
	return Request{
		ExecutionID: 42,
		Action:      shellAction(script),
		Timeout:     30 * time.Second,
		Env:         map[string]string{"ATTUNE_TEST_DIR": b.dir},
	}
}

// run runs req and requires that it did not fail to start.
func (b *testBundle) run(t *testing.T, ctx context.Context, req Request) Result {
	t.Helper()
	res, err := b.set.Run(ctx, req)
	require.NoError(t, err)
	return res
}

// waitPID waits for a script to write a pid into the named file of the scratch directory.
func (b *testBundle) waitPID(t *testing.T, name string) int {
	t.Helper()
	var pid int
	require.Eventually(t, func() bool {
		data, err := os.ReadFile(filepath.Join(b.dir, name))
		if err != nil || !strings.HasSuffix(string(data), "\n") {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(data)))
		return err == nil
	}, 10*time.Second, 10*time.Millisecond, "script did not write %s", name)
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	return pid
}

// shellAction returns a shell action whose entry point is script.
func shellAction(script string) attune.Action {
	return attune.Action{
		Ref:          "test.action",
		PackRef:      "test",
		Runtime:      attune.RuntimeShell,
		EntryPoint:   "action.sh",
		EntryContent: []byte(script),
	}
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// requirePython skips the test when python3 is not on PATH.
func requirePython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not on PATH; install it to run the python runtime tests")
	}
}

func TestSetGet(t *testing.T) {
	t.Parallel()
	set := setup(t).set

	for _, name := range attune.Runtimes {
		if name == attune.RuntimeKV || name == attune.RuntimeInquirer {
			continue // need the database: jobs adds kv (Set.Add) and runs core.ask in its dispatch
		}
		r, err := set.Get(name)
		require.NoError(t, err, name)
		require.NotNil(t, r, name)
	}

	for _, name := range []string{"bogus", "Shell", "bash", "python3", ""} {
		_, err := set.Get(name)
		require.ErrorIs(t, err, attune.ErrNotFound, name)
		require.ErrorContains(t, err, strconv.Quote(name))
		require.ErrorContains(t, err, "noop, python, python-script, shell")
	}
}

func TestSetRunSelectsRuntimeByName(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("ShellActionNamedPy", func(t *testing.T) {
		t.Parallel()
		// Valid sh, a syntax error for python: only sh can run it.
		req := b.request(`if [ -n "$0" ]; then echo "run by $(tr '\0' ' ' < /proc/$$/cmdline)"; fi`)
		req.Action.EntryPoint = "x.py"
		res := b.run(t, context.Background(), req)
		require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
		require.True(t, strings.HasPrefix(res.Stdout, "run by /bin/sh "), res.Stdout)
		require.Contains(t, res.Stdout, "/x.py")
	})

	t.Run("PythonActionNamedSh", func(t *testing.T) {
		t.Parallel()
		requirePython(t)
		req := b.request("import sys\nprint('python', sys.version_info[0])\n")
		req.Action.Runtime, req.Action.EntryPoint = attune.RuntimePython, "x.sh"
		res := b.run(t, context.Background(), req)
		require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
		require.Equal(t, "python 3\n", res.Stdout)
	})

	t.Run("UnknownRuntime", func(t *testing.T) {
		t.Parallel()
		req := b.request("echo never")
		req.Action.Runtime = "bogus"
		res, err := b.set.Run(context.Background(), req)
		require.ErrorIs(t, err, attune.ErrNotFound)
		require.EqualError(t, err,
			`run action "test.action": runtime "bogus": not found; this worker runs http, local-shell-cmd, local-shell-script, noop, python, python-script, shell`)
		require.Equal(t, attune.StatusFailed, res.Status)
		require.Equal(t, -1, res.ExitCode)
		require.Equal(t, err.Error(), res.Error)
	})
}

func TestNoop(t *testing.T) {
	t.Parallel()
	set := setup(t).set

	t.Run("ReturnsCopyOfParameters", func(t *testing.T) {
		t.Parallel()
		params := map[string]any{"msg": "hi", "nested": map[string]any{"list": []any{1.0, "two"}}}
		res, err := set.Run(context.Background(), Request{
			Action:     attune.Action{Ref: "core.noop", Runtime: attune.RuntimeNoop},
			Parameters: params,
		})
		require.NoError(t, err)
		require.Equal(t, attune.StatusCompleted, res.Status)
		require.Equal(t, 0, res.ExitCode)
		require.Empty(t, res.Stdout)
		require.Empty(t, res.Error)
		require.Equal(t, params, res.Data)

		params["nested"].(map[string]any)["list"].([]any)[0] = "changed"
		params["msg"] = "changed"
		require.Equal(t, map[string]any{"msg": "hi", "nested": map[string]any{"list": []any{1.0, "two"}}}, res.Data)
		require.JSONEq(t, `{"exit_code":0,"duration_ms":0,"succeeded":true,"stdout":"","data":{"msg":"hi","nested":{"list":[1,"two"]}}}`,
			string(res.JSON()))
	})

	t.Run("NilParameters", func(t *testing.T) {
		t.Parallel()
		res, err := set.Run(context.Background(), Request{Action: attune.Action{Runtime: attune.RuntimeNoop}})
		require.NoError(t, err)
		require.Equal(t, map[string]any{}, res.Data)
	})

	t.Run("Cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(errors.New("shutting down"))
		res, err := set.Run(ctx, Request{Action: attune.Action{Runtime: attune.RuntimeNoop}})
		require.NoError(t, err)
		require.Equal(t, attune.StatusCancelled, res.Status)
		require.Equal(t, "cancelled: shutting down", res.Error)
	})
}

func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, want time.Duration
	}{
		{0, 300 * time.Second},
		{-time.Second, 300 * time.Second},
		{time.Second, time.Second},
	} {
		require.Equal(t, tt.want, Request{Timeout: tt.in}.timeout(), tt.in)
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg := Config{}.withDefaults()
	require.Equal(t, "/bin/sh", cfg.ShellInterpreter)
	require.Equal(t, "python3", cfg.PythonInterpreter)
	require.Equal(t, 1<<20, cfg.OutputCap)
	require.Equal(t, 5*time.Second, cfg.KillGrace)
	require.Equal(t, filepath.Join(os.TempDir(), "attune-actions-"+strconv.Itoa(os.Geteuid())), cfg.WorkDir)
	require.NotNil(t, cfg.Logger)
}
