package jobs_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/attunetest"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// leakPy is an action that does everything an action could do with a secret: it saves what it
// got on stdin, dumps its own and its parent's (the worker's) environment and command
// line, and prints the secret to stdout (as JSON) and stderr.
const leakPy = `import json, os, sys
raw = sys.stdin.read()
p = json.loads(raw)
d = p["dir"]
def dump(name, path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        data = ("unreadable: %s" % e).encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
dump("self.environ", "/proc/%d/environ" % os.getpid())
dump("self.cmdline", "/proc/%d/cmdline" % os.getpid())
dump("parent.environ", "/proc/%d/environ" % os.getppid())
dump("parent.cmdline", "/proc/%d/cmdline" % os.getppid())
with open(os.path.join(d, "stdin"), "w") as f:
    f.write(raw)
print("stderr says " + p["token"], file=sys.stderr)
print(json.dumps({"echo": p["token"], "quoted": "token=" + json.dumps(p["token"])}))
`

// retrySh fails on every attempt after recording the secret it received.
const retrySh = `eval "$(cat)"
printf '%s\n' "$token" >> "$dir/attempts"
echo "failing with $token" >&2
exit 1
`

var secretPack = map[string]string{
	"pack.yaml":       "ref: sec\nversion: 1.0.0\n",
	"triggers/t.yaml": "ref: t\n",
	"actions/leak.yaml": `ref: leak
runner_type: python
entry_point: leak.py
output_format: json
parameters:
  dir: {type: string, required: true}
  token: {type: string, secret: true, required: true}
`,
	"actions/leak.py": leakPy,
	"actions/echo.yaml": `ref: echo
runner_type: noop
parameters:
  token: {type: string, secret: true}
  note: {type: string}
`,
	"actions/again.yaml": `ref: again
runner_type: shell
entry_point: again.sh
parameter_format: dotenv
retry: {count: 1, delay: 0}
parameters:
  dir: {type: string, required: true}
  token: {type: string, secret: true, required: true}
`,
	"actions/again.sh": retrySh,
	"rules/on_t.yaml": `ref: on_t
trigger_ref: t
action_ref: leak
action_params:
  dir: "{{ event.payload.dir }}"
  token: "{{ event.payload.token }}"
`,
}

func randomSecret(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 12)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return prefix + hex.EncodeToString(b)
}

// tableText is every row of an attune table as text, the way a DBA's SELECT would show it.
func tableText(t *testing.T, e *attunetest.Env, table string) string {
	t.Helper()
	var s *string
	require.NoError(t, e.DB.Pool.QueryRow(context.Background(),
		"SELECT string_agg(t::text, E'\\n') FROM "+table+" t").Scan(&s))
	if s == nil {
		return ""
	}
	return *s
}

// A secret parameter reaches the action on stdin and nowhere else: not the stored execution,
// enforcement or history, not River's jobs, not the logs, not the process's environment or
// command line (nor its guard's), and not the stored result, where the action's own output of
// it is masked. Both entry points are covered: attune run and a rule rendering the secret from
// an event.
func TestSecretNeverLeaves(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	e := attunetest.New(t, attunetest.Options{
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	ctx := context.Background()
	registerPack(t, e, secretPack)

	byRun, byRule := randomSecret(t, "run-"), randomSecret(t, "rule-")
	runDir, ruleDir := t.TempDir(), t.TempDir()

	x, err := e.P.Run(ctx, "sec.leak", map[string]any{"dir": runDir, "token": byRun}, 0)
	require.NoError(t, err)
	require.Equal(t, "********", x.Parameters["token"])
	ev, err := e.P.EmitEvent(ctx, db.NewEvent{TriggerRef: "sec.t", Payload: map[string]any{"dir": ruleDir, "token": byRule}})
	require.NoError(t, err)
	var fromRule []attune.Execution
	require.Eventually(t, func() bool {
		fromRule, err = e.DB.AutoCommit().ExecutionsByEvent(ctx, ev.ID)
		require.NoError(t, err)
		return len(fromRule) == 1
	}, 10*time.Second, 20*time.Millisecond)

	for _, c := range []struct {
		id     int64
		secret string
		dir    string
	}{{x.ID, byRun, runDir}, {fromRule[0].ID, byRule, ruleDir}} {
		x := e.WaitTerminal(t, c.id, 30*time.Second)
		require.Equal(t, attune.StatusCompleted, x.Status, "%s", x.Error)

		// The action got it, on stdin.
		stdin, err := os.ReadFile(filepath.Join(c.dir, "stdin"))
		require.NoError(t, err)
		var got map[string]any
		require.NoError(t, json.Unmarshal(stdin, &got))
		require.Equal(t, c.secret, got["token"], "the action receives the secret on stdin")

		// Not in its environment or command line, nor its parent's (the worker, which is not
		// dumpable: its files in /proc are readable by root only).
		for _, f := range []string{"self.environ", "self.cmdline", "parent.environ", "parent.cmdline"} {
			b, err := os.ReadFile(filepath.Join(c.dir, f))
			require.NoError(t, err)
			if strings.HasPrefix(f, "self.") || os.Geteuid() == 0 {
				require.NotContains(t, string(b), "unreadable", f)
				require.NotEmpty(t, b, f)
			}
			require.NotContains(t, string(b), c.secret, "%s holds the secret", f)
		}
		require.Contains(t, mustRead(t, filepath.Join(c.dir, "self.cmdline")), "leak.py", "the dump is the action's own")

		// The stored result has the action's output with the secret masked.
		r := result(t, x)
		require.Equal(t, map[string]any{"echo": "********", "quoted": `token="********"`}, r["data"])
		require.Equal(t, "stderr says ********\n", r["stderr"])
		require.Equal(t, "********", x.Parameters["token"])
		require.Equal(t, c.dir, x.Parameters["dir"], "other parameters are stored as they are")
	}

	enfs, err := e.DB.AutoCommit().EnforcementsByEvent(ctx, ev.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"dir": ruleDir, "token": "********"}, enfs[0].Parameters)

	for _, table := range []string{"attune.execution", "attune.enforcement", "attune.execution_history", "river_job"} {
		text := tableText(t, e, table)
		require.NotEmpty(t, text, table)
		for _, s := range []string{byRun, byRule} {
			require.NotContains(t, text, s, "%s holds a secret", table)
		}
	}
	var sealed []byte
	require.NoError(t, e.DB.Pool.QueryRow(ctx, "SELECT secrets FROM attune.execution WHERE id = $1", x.ID).Scan(&sealed))
	require.NotEmpty(t, sealed, "the secret is stored, encrypted")
	require.NotContains(t, string(sealed), byRun)

	require.Contains(t, logs.String(), "execution finished", "the logs were captured")
	for _, s := range []string{byRun, byRule} {
		require.NotContains(t, logs.String(), s, "the logs hold a secret")
	}
}

// The noop runtime answers with its parameters: the secret among them is masked in the result.
// A retry carries the sealed secret to the next attempt, and failing output is masked too.
func TestSecretInResultsAndRetries(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerPack(t, e, secretPack)

	x, err := e.P.Run(ctx, "sec.echo", map[string]any{"token": "noop-secret", "note": "n"}, 0)
	require.NoError(t, err)
	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, map[string]any{"token": "********", "note": "n"}, result(t, x)["data"])

	dir := t.TempDir()
	secret := randomSecret(t, "retry-")
	x, err = e.P.Run(ctx, "sec.again", map[string]any{"dir": dir, "token": secret}, 0)
	require.NoError(t, err)
	var attempts []attune.Execution
	require.Eventually(t, func() bool {
		attempts, err = e.DB.AutoCommit().ExecutionAttempts(ctx, x.ID)
		require.NoError(t, err)
		return len(attempts) == 2 && attempts[1].Status.Terminal()
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, secret+"\n"+secret+"\n", mustRead(t, filepath.Join(dir, "attempts")), "both attempts got the secret")
	for _, a := range attempts {
		require.Equal(t, attune.StatusFailed, a.Status)
		require.Equal(t, "********", a.Parameters["token"])
		require.Equal(t, "failing with ********", a.Error, "the last stderr line, masked")
		require.NotContains(t, string(a.Result), secret)
	}
	require.NotContains(t, tableText(t, e, "attune.execution_history"), secret)
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.ReplaceAll(string(b), "\x00", " ")
}
