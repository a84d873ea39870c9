package runtimes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// stubbornScript ignores SIGTERM (and so do its children, which inherit the disposition),
// starts a background grandchild, records both pids and sleeps.
const stubbornScript = `trap '' TERM
sleep 100 &
echo $! > "$ATTUNE_TEST_DIR/grandchild.pid"
echo $$ > "$ATTUNE_TEST_DIR/child.pid"
sleep 100
`

// requireGone requires process pid to be gone (or a zombie) shortly. Run returns once the
// process group has been sent SIGKILL and its pipes have closed, which happens while a killed
// process exits, so its final state may lag by a moment.
func requireGone(t *testing.T, pid int, msg string) {
	t.Helper()
	require.Eventually(t, func() bool { return !alive(pid) }, 2*time.Second, 5*time.Millisecond, msg)
}

func TestRunTimeoutKillsProcessGroup(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := b.request(stubbornScript)
	req.Timeout = time.Second

	start := time.Now()
	res := b.run(t, context.Background(), req)
	elapsed := time.Since(start)

	require.Equal(t, attune.StatusTimeout, res.Status)
	require.Equal(t, -1, res.ExitCode)
	require.Equal(t, "timed out after 1s", res.Error)
	require.Less(t, elapsed, req.Timeout+b.cfg.KillGrace+3*time.Second)
	requireGone(t, b.waitPID(t, "child.pid"), "the action process survived")
	requireGone(t, b.waitPID(t, "grandchild.pid"), "the background grandchild survived")
}

func TestRunCancelKillsProcessGroup(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		for {
			if _, err := os.Stat(filepath.Join(b.dir, "child.pid")); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel(errors.New("operator asked"))
	}()

	start := time.Now()
	res := b.run(t, ctx, b.request(stubbornScript))
	elapsed := time.Since(start)

	require.Equal(t, attune.StatusCancelled, res.Status)
	require.Equal(t, -1, res.ExitCode)
	require.Equal(t, "cancelled: operator asked", res.Error)
	require.Less(t, elapsed, b.cfg.KillGrace+5*time.Second)
	requireGone(t, b.waitPID(t, "child.pid"), "the action process survived")
	requireGone(t, b.waitPID(t, "grandchild.pid"), "the background grandchild survived")
}

func TestRunCancelledBeforeStart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("worker stopping"))

	res := b.run(t, ctx, b.request(`touch "$ATTUNE_TEST_DIR/ran"`))

	require.Equal(t, attune.StatusCancelled, res.Status)
	require.Equal(t, "cancelled: worker stopping", res.Error)
	require.NoFileExists(t, filepath.Join(b.dir, "ran"))
}

func TestRunTerminatesProcessesLeftBehind(t *testing.T) {
	t.Parallel()
	b := setup(t)

	start := time.Now()
	res := b.run(t, context.Background(), b.request(`sleep 100 &
echo $! > "$ATTUNE_TEST_DIR/grandchild.pid"
echo done
`))

	require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
	require.Equal(t, "done\n", res.Stdout)
	require.Less(t, time.Since(start), b.cfg.KillGrace+3*time.Second)
	requireGone(t, b.waitPID(t, "grandchild.pid"), "the background process survived")
}

func TestRunCapsOutput(t *testing.T) {
	t.Parallel()
	b := setup(t, func(cfg *Config) { cfg.OutputCap = 1024 })
	const size = 5 << 20

	// stdout first, then stderr: if either pipe were not drained, the script would block.
	res := b.run(t, context.Background(), b.request(`head -c 5242880 /dev/zero | tr '\0' a
head -c 5242880 /dev/zero | tr '\0' b >&2
`))

	require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
	require.True(t, res.StdoutTruncated)
	require.True(t, res.StderrTruncated)
	marker := fmt.Sprintf("\n…[truncated %d bytes]", size-1024)
	require.Equal(t, strings.Repeat("a", 1024)+marker, res.Stdout)
	require.Equal(t, strings.Repeat("b", 1024)+marker, res.Stderr)
	require.Contains(t, string(res.JSON()), `"stdout_truncated":true,"stderr_truncated":true}`)
}

func TestRunExitStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tt := range []struct {
		name      string
		script    string
		status    attune.ExecutionStatus
		exitCode  int
		errorText string
	}{
		{"Zero", "echo ok", attune.StatusCompleted, 0, ""},
		{"NonZeroWithStderr", "echo 'first problem' >&2\necho 'disk full' >&2\necho '  ' >&2\nexit 3", attune.StatusFailed, 3, "disk full"},
		{"NonZeroSilent", "exit 7", attune.StatusFailed, 7, "exited with code 7"},
		{"KilledBySignal", "kill -KILL $$", attune.StatusFailed, -1, "killed by signal 9 (killed)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := b.run(t, context.Background(), b.request(tt.script))
			require.Equal(t, tt.status, res.Status)
			require.Equal(t, tt.exitCode, res.ExitCode)
			require.Equal(t, tt.errorText, res.Error)
			require.Positive(t, res.Duration)
		})
	}
}

func TestRunJSONOutput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tt := range []struct {
		name      string
		format    string
		script    string
		status    attune.ExecutionStatus
		data      any
		errorText string
	}{
		{"WholeStdout", attune.OutputJSON, `printf '{\n  "ok": true,\n  "n": 2\n}\n'`,
			attune.StatusCompleted, map[string]any{"ok": true, "n": 2.0}, ""},
		{"LastLineAfterLogs", attune.OutputJSON, "echo 'working…'\necho '[1,2]'\necho",
			attune.StatusCompleted, []any{1.0, 2.0}, ""},
		{"NotJSON", attune.OutputJSON, "echo hello",
			attune.StatusFailed, nil, "output_format json: stdout is not JSON: invalid character 'h' looking for beginning of value"},
		{"FailedRunIsNotParsed", attune.OutputJSON, "echo '{}'; echo boom >&2; exit 1",
			attune.StatusFailed, nil, "boom"},
		{"TextFormat", attune.OutputText, "echo '{}'",
			attune.StatusCompleted, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := b.request(tt.script)
			req.Action.OutputFormat = tt.format
			res := b.run(t, context.Background(), req)
			require.Equal(t, tt.status, res.Status)
			require.Equal(t, tt.data, res.Data)
			require.Equal(t, tt.errorText, res.Error)
			require.NotEmpty(t, res.Stdout, "stdout is kept even when parsed")
		})
	}
}

func TestRunJSONOutputAfterTruncation(t *testing.T) {
	t.Parallel()
	b := setup(t, func(cfg *Config) { cfg.OutputCap = 1024 })
	req := b.request(`head -c 100000 /dev/zero | tr '\0' '\n'
echo '{"answer":42}'
`)
	req.Action.OutputFormat = attune.OutputJSON

	res := b.run(t, context.Background(), req)

	require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
	require.True(t, res.StdoutTruncated)
	require.Equal(t, map[string]any{"answer": 42.0}, res.Data)
}

func TestRunPython(t *testing.T) {
	t.Parallel()
	requirePython(t)
	b := setup(t)
	req := Request{
		ExecutionID: 7,
		Action: attune.Action{
			Ref: "test.greet", PackRef: "test", Runtime: attune.RuntimePython,
			EntryPoint: "greet.py", OutputFormat: attune.OutputJSON,
			EntryContent: []byte(`import json, os, sys
params = json.load(sys.stdin)
print("greeting", params["name"], file=sys.stderr)
json.dump({"greeting": "hello " + params["name"], "twice": params["n"] * 2,
           "execution": os.environ["ATTUNE_EXECUTION_ID"]}, sys.stdout)
`),
		},
		Parameters: map[string]any{"name": "world", "n": 21},
	}

	res := b.run(t, context.Background(), req)

	require.Equal(t, attune.StatusCompleted, res.Status, res.Stderr)
	require.Equal(t, map[string]any{"greeting": "hello world", "twice": 42.0, "execution": "7"}, res.Data)
	require.Equal(t, "greeting world\n", res.Stderr)

	// The interpreter was resolved once to an absolute path, and reused.
	r, err := b.set.Get(attune.RuntimePython)
	require.NoError(t, err)
	path := r.(*processRunner).interp.path
	require.True(t, filepath.IsAbs(path), path)
	res = b.run(t, context.Background(), req)
	require.Equal(t, attune.StatusCompleted, res.Status, res.Stderr)
	require.Equal(t, path, r.(*processRunner).interp.path)
}

func TestRunDoesNotExposeParameters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const secret = "s3cr3t-hunter2-Zq9"
	for _, format := range []string{ParamFormatJSON, ParamFormatDotenv} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			req := b.request(`cat /proc/$$/cmdline
echo
cat /proc/$$/environ
echo
echo ---STDIN---
cat
`)
			req.ParameterFormat = format
			req.Parameters = map[string]any{"password": secret, "user": "admin"}

			res := b.run(t, context.Background(), req)

			require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
			procInfo, stdin, ok := strings.Cut(res.Stdout, "---STDIN---")
			require.True(t, ok, res.Stdout)
			require.Contains(t, procInfo, "action.sh", "cmdline was printed")
			require.Contains(t, procInfo, "ATTUNE_EXECUTION_ID=42", "environ was printed")
			require.NotContains(t, procInfo, secret)
			require.Contains(t, stdin, secret)
		})
	}
}

func TestRunEnvironment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := b.request(`env | grep '^ATTUNE_' | grep -v '^ATTUNE_RUN_ID=' | sort
echo "PATH=$PATH"
echo "$ATTUNE_RUN_ID" >&2
`)
	req.Env["ATTUNE_RULE"] = "test.on_tick"
	req.Env["ATTUNE_TRIGGER"] = "core.timer"

	res := b.run(t, context.Background(), req)

	require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
	want := []string{
		"ATTUNE_ACTION=test.action",
		"ATTUNE_EXECUTION_ID=42",
		"ATTUNE_PACK=test",
		"ATTUNE_PARAMETER_DELIVERY=stdin",
		"ATTUNE_PARAMETER_FORMAT=json",
		"ATTUNE_RULE=test.on_tick",
		"ATTUNE_TEST_DIR=" + b.dir,
		"ATTUNE_TRIGGER=core.timer",
		"PATH=" + os.Getenv("PATH"), // the worker's ATTUNE_* configuration is not inherited
	}
	require.Equal(t, strings.Join(want, "\n")+"\n", res.Stdout)
	require.Regexp(t, `^[0-9a-f]{24}\n$`, res.Stderr, "ATTUNE_RUN_ID marks the run's processes")
}

func TestRunMaterialisesEntryPoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	script := "pwd\n"
	sum := sha256.Sum256([]byte(script))
	dir := filepath.Join(b.cfg.WorkDir, hex.EncodeToString(sum[:]))
	file := filepath.Join(dir, "action.sh")

	for range 2 {
		res := b.run(t, context.Background(), b.request(script))
		require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
		require.Equal(t, dir+"\n", res.Stdout, "runs in the entry point's directory")
	}

	info, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), info.Mode().Perm())
	info, err = os.Stat(file)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o500), info.Mode().Perm())
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, script, string(data))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary files are left")
}

func TestEntryPointsRewriteDamagedFile(t *testing.T) {
	t.Parallel()
	e := &entryPoints{dir: t.TempDir(), log: Config{}.withDefaults().Logger}
	action := shellAction("echo hi\n")

	path, err := e.materialise(action)
	require.NoError(t, err)
	require.NoError(t, os.Chmod(path, 0o600))
	require.NoError(t, os.WriteFile(path, []byte("rm -rf"), 0o600))

	again, err := e.materialise(action)
	require.NoError(t, err)
	require.Equal(t, path, again)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "echo hi\n", string(data))
}

func TestRunRejectsBadEntryPoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tt := range []struct {
		name       string
		entryPoint string
		content    string
		errorText  string
	}{
		{"EmptyContent", "action.sh", "",
			`run action "test.action": action "test.action" has no entry point content (entry point "action.sh"): invalid`},
		{"NoFileName", "", "echo hi",
			`run action "test.action": action "test.action": entry point "" is not a file name: invalid`},
		{"DotDot", "..", "echo hi",
			`run action "test.action": action "test.action": entry point ".." is not a file name: invalid`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := b.request(tt.content)
			req.Action.EntryPoint = tt.entryPoint
			res, err := b.set.Run(context.Background(), req)
			require.ErrorIs(t, err, attune.ErrInvalid)
			require.EqualError(t, err, tt.errorText)
			require.Equal(t, attune.StatusFailed, res.Status)
			require.Equal(t, -1, res.ExitCode)
			require.Equal(t, tt.errorText, res.Error)
		})
	}
}

func TestRunMissingInterpreter(t *testing.T) {
	t.Parallel()
	b := setup(t, func(cfg *Config) { cfg.PythonInterpreter = "no-such-python-xyz" })
	req := b.request("print(1)")
	req.Action.Runtime = attune.RuntimePython

	res, err := b.set.Run(context.Background(), req)

	require.ErrorIs(t, err, exec.ErrNotFound)
	require.ErrorContains(t, err, `find interpreter "no-such-python-xyz"`)
	require.Equal(t, attune.StatusFailed, res.Status)
}

func TestRunInvalidEnv(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := b.request("echo hi")
	req.Env["BAD=KEY"] = "x"

	_, err := b.set.Run(context.Background(), req)

	require.ErrorIs(t, err, attune.ErrInvalid)
	require.ErrorContains(t, err, `context variable "BAD=KEY" cannot be set`)
}

// TestPdeathsigKillsActionWhenWorkerDies runs a worker in a child test binary, kills that worker
// with SIGKILL while an action runs, and checks that the action process dies with it.
func TestPdeathsigKillsActionWhenWorkerDies(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	worker := exec.Command(os.Args[0], "-test.run=^TestHelperWorker$", "-test.count=1")
	worker.Env = append(os.Environ(), "ATTUNE_RUNTIMES_HELPER_DIR="+dir)
	require.NoError(t, worker.Start())
	t.Cleanup(func() { _ = worker.Process.Kill(); _ = worker.Wait() })
	b := &testBundle{dir: dir}
	pid := b.waitPID(t, "child.pid")
	grandchild := b.waitPID(t, "grandchild.pid")
	require.True(t, alive(pid))
	require.True(t, alive(grandchild))

	require.NoError(t, worker.Process.Kill())
	_ = worker.Wait()

	require.Eventually(t, func() bool { return !alive(pid) }, 5*time.Second, 10*time.Millisecond,
		"the action process outlived its worker")
	require.Eventually(t, func() bool { return !alive(grandchild) }, 5*time.Second, 10*time.Millisecond,
		"the action's own child outlived the worker")
}

// TestHelperWorker is the worker process of TestPdeathsigKillsActionWhenWorkerDies; on its own it
// does nothing.
func TestHelperWorker(t *testing.T) {
	dir := os.Getenv("ATTUNE_RUNTIMES_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process for TestPdeathsigKillsActionWhenWorkerDies")
	}
	set := New(Config{WorkDir: filepath.Join(dir, "work")})
	_, _ = set.Run(context.Background(), Request{
		Action: shellAction(`echo $$ > "$ATTUNE_TEST_DIR/child.pid"
sleep 100 &
echo $! > "$ATTUNE_TEST_DIR/grandchild.pid"
wait`),
		Timeout: time.Minute,
		Env:     map[string]string{"ATTUNE_TEST_DIR": dir},
	})
}
