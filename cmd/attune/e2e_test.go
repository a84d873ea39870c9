package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// binary is the attune binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "attune-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "attune")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build attune:", err)
		return 1
	}
	return m.Run()
}

// instance is one attune data directory, with the commands run against it.
type instance struct {
	t   *testing.T
	dir string
	env []string
}

func newInstance(t *testing.T) *instance {
	t.Helper()
	// The embedded cluster runs as the postgres user when the tests run as root, so the data
	// directory must be reachable by it: t.TempDir's directories are 0700.
	dir, err := os.MkdirTemp("", "attune-e2e-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	env := append(os.Environ(), "ATTUNE_DATA_DIR="+filepath.Join(dir, "data"), "ATTUNE_PACKS_DEMO=false",
		"ATTUNE_DATABASE_URL=")
	return &instance{t: t, dir: dir, env: env}
}

// attune runs one command to completion and returns its stdout, stderr and exit code.
func (in *instance) attune(args ...string) (string, string, int) {
	in.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir, cmd.Env = in.dir, in.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(in.t, err)
	}
	return out.String(), errb.String(), code
}

// start runs `attune start` in the background; the returned func stops it with SIGINT and
// returns its exit code.
func (in *instance) start() (stop func() int, logs *bytes.Buffer) {
	in.t.Helper()
	cmd := exec.Command(binary, "start", "--log-format", "json")
	cmd.Dir, cmd.Env = in.dir, in.env
	logs = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(in.t, cmd.Start())
	stopped := false
	stop = func() int {
		if stopped {
			return 0
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode()
			}
			return 0
		case <-time.After(40 * time.Second):
			_ = cmd.Process.Kill()
			in.t.Errorf("attune start did not stop within 40s; logs:\n%s", logs)
			return -1
		}
	}
	in.t.Cleanup(func() { stop() })
	return stop, logs
}

// dbURL waits for the embedded cluster and returns its URL.
func (in *instance) dbURL() string {
	in.t.Helper()
	var url string
	require.Eventually(in.t, func() bool {
		out, _, code := in.attune("db", "url")
		url = strings.TrimSpace(out)
		return code == 0 && url != ""
	}, 60*time.Second, 200*time.Millisecond, "the embedded cluster never came up")
	return url
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

// The walking skeleton, as a new user meets it: start on the embedded default, register a pack
// with a 1-second interval rule, see linked events, enforcements and completed executions, run
// actions by hand, and stop cleanly.
func TestEndToEnd(t *testing.T) {
	in := newInstance(t)
	stop, logs := in.start()
	url := in.dbURL()

	pack := filepath.Join(in.dir, "e2e-pack")
	writeFiles(t, pack, map[string]string{
		"pack.yaml": "ref: e2e\nversion: 1.0.0\ndescription: end-to-end test pack\n",
		"rules/every_second.yaml": `ref: every_second
trigger_ref: core.intervaltimer
trigger_params: {interval: 1, unit: seconds}
action_ref: core.echo
action_params:
  message: "tick {{ event.payload.scheduled_at }}"
`,
	})
	out, errOut, code := in.attune("pack", "register", pack)
	require.Equal(t, 0, code, "pack register: %s %s", out, errOut)
	require.Contains(t, out, "registered pack e2e")

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)

	type link struct {
		execID, enfID, eventID int64
		status, stdout, msg    string
		ruleOK, triggerOK      bool
	}
	var links []link
	require.Eventually(t, func() bool {
		rows, err := conn.Query(ctx, `
			SELECT x.id, n.id, ev.id, x.status, coalesce(x.result->>'stdout', ''),
			       coalesce(x.parameters->>'message', ''),
			       ev.rule_id = r.id AND n.rule_id = r.id, ev.trigger_ref = 'core.intervaltimer'
			FROM attune.execution x
			JOIN attune.enforcement n ON n.id = x.enforcement_id
			JOIN attune.event ev ON ev.id = n.event_id
			JOIN attune.rule r ON r.ref = 'e2e.every_second'
			WHERE x.action_ref = 'core.echo' AND x.status = 'completed'
			ORDER BY x.id`)
		require.NoError(t, err)
		links = links[:0]
		for rows.Next() {
			var l link
			require.NoError(t, rows.Scan(&l.execID, &l.enfID, &l.eventID, &l.status, &l.stdout, &l.msg, &l.ruleOK, &l.triggerOK))
			links = append(links, l)
		}
		require.NoError(t, rows.Err())
		return len(links) >= 3
	}, 30*time.Second, 250*time.Millisecond, "fewer than 3 completed executions; logs:\n%s", logs)
	for _, l := range links {
		require.True(t, l.ruleOK && l.triggerOK, "execution %d is linked to its rule's event", l.execID)
		require.True(t, strings.HasPrefix(l.msg, "tick 20"), "rendered message %q", l.msg)
		require.Equal(t, l.msg+"\n", l.stdout, "core.echo printed its message")
	}

	// attune execution list shows them newest first, as JSON for scripts.
	out, _, code = in.attune("execution", "list", "--json", "--limit", "5")
	require.Equal(t, 0, code)
	var listed []struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &listed))
	require.NotEmpty(t, listed)
	for i := 1; i < len(listed); i++ {
		require.Greater(t, listed[i-1].ID, listed[i].ID, "newest first")
	}
	out, _, code = in.attune("execution", "list")
	require.Equal(t, 0, code)
	require.Contains(t, out, "core.echo")

	// attune run prints the action's output and exits 0 when it completed.
	out, errOut, code = in.attune("run", "core.echo", "message=hi")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "hi\n", out)

	// A timeout ends the execution timeout, kills the process and exits non-zero, promptly.
	began := time.Now()
	_, errOut, code = in.attune("run", "--timeout", "1s", "core.sleep", "seconds=5")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "timeout")
	require.Less(t, time.Since(began), 8*time.Second)

	// An unknown action is a usage error that says what to do.
	_, errOut, code = in.attune("run", "core.nope")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "core.nope is not registered")

	// River's tables sit beside attune's, without a schema prefix.
	var dispatches int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'attune.execution.dispatch'`).Scan(&dispatches))
	require.GreaterOrEqual(t, dispatches, 4)

	out, _, code = in.attune("status")
	require.Equal(t, 0, code)
	require.Contains(t, out, "attune_runtime_shell")
	require.Contains(t, out, "completed")

	conn.Close(ctx)
	require.Equal(t, 0, stop(), "attune start exits 0 on SIGINT; logs:\n%s", logs)
	_, errOut, code = in.attune("db", "url")
	require.NotEqual(t, 0, code, "the cluster stopped with attune")
	require.Contains(t, errOut, "not running")

	// The next start reuses the data.
	stop2, logs2 := in.start()
	url = in.dbURL()
	conn2, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	var n int
	require.NoError(t, conn2.QueryRow(ctx, `SELECT count(*) FROM attune.execution`).Scan(&n))
	require.GreaterOrEqual(t, n, len(links)+2)
	conn2.Close(ctx)
	require.Equal(t, 0, stop2(), "logs:\n%s", logs2)
}

// A malformed pack is rejected with file:line and changes nothing.
func TestPackRegisterRejectsMalformedPack(t *testing.T) {
	in := newInstance(t)
	pack := filepath.Join(in.dir, "bad")
	writeFiles(t, pack, map[string]string{
		"pack.yaml":       "ref: bad\nversion: 1.0.0\n",
		"rules/oops.yaml": "ref: oops\ntrigger_ref: core.intervaltimer\naction_ref: core.echo\ntrigger_params: {interval: 1, unit: fortnights}\n",
	})
	_, errOut, code := in.attune("pack", "register", pack)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, filepath.Join("bad", "rules", "oops.yaml")+":4")
	require.Contains(t, errOut, "nothing was registered")
}
