package runtimes

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// shellOwn are the variables a shell sets for itself, whatever environment it was given.
var shellOwn = []string{"PWD", "OLDPWD", "SHLVL", "_"}

// envNames returns the names of NAME=value lines, sorted, without the shell's own.
func envNames(t *testing.T, out string) []string {
	t.Helper()
	var names []string
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		name, _, ok := strings.Cut(line, "=")
		require.True(t, ok, "not NAME=value: %q", line)
		if !slices.Contains(shellOwn, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// An action's environment is built from an allow-list, not from the worker's: PATH, HOME, LANG
// and TZ, the action's declared env and attune's context. The worker's ATTUNE_* configuration
// (the secrets key, the database URL) and anything else it has exported never reach a shell or
// a Python action.
func TestActionEnvironmentIsAnAllowList(t *testing.T) {
	const key, url = "c2VjcmV0LWtleS1vZi10aGUtd29ya2VyLTMyYnl0ZXM=", "postgres://attune:hunter2@db.internal/attune"
	t.Setenv("ATTUNE_SECRETS_KEY", key)
	t.Setenv("ATTUNE_DATABASE_URL", url)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "worker-credential")
	t.Setenv("TZ", "Europe/Paris")
	t.Setenv("LANG", "")
	b := setup(t)
	ctx := context.Background()

	want := []string{"ATTUNE_ACTION", "ATTUNE_EXECUTION_ID", "ATTUNE_PACK", "ATTUNE_PARAMETER_DELIVERY",
		"ATTUNE_PARAMETER_FORMAT", "ATTUNE_RUN_ID", "ATTUNE_TEST_DIR", "GREETING", "HOME", "LANG", "PATH", "TZ"}
	for _, c := range []struct{ runtime, file, script string }{
		{attune.RuntimeShell, "env.sh", "env\n"},
		{attune.RuntimePython, "env.py", "import os\nfor k, v in os.environ.items():\n    print(k + '=' + v)\n"},
	} {
		t.Run(c.runtime, func(t *testing.T) {
			req := b.request(c.script)
			req.Action.Runtime, req.Action.EntryPoint = c.runtime, c.file
			req.Action.Env = map[string]string{"GREETING": "hello $HOME"}
			res := b.run(t, ctx, req)
			require.Equal(t, attune.StatusCompleted, res.Status, "%s", res.Error)
			require.NotContains(t, res.Stdout, key)
			require.NotContains(t, res.Stdout, "hunter2")
			require.NotContains(t, res.Stdout, "worker-credential")
			require.Equal(t, want, envNames(t, res.Stdout))
			require.Contains(t, res.Stdout, "TZ=Europe/Paris\n", "TZ is the worker's")
			require.Contains(t, res.Stdout, "LANG=C.UTF-8\n", "a LANG the worker lacks has a default")
			require.Contains(t, res.Stdout, "GREETING=hello $HOME\n", "declared values are literal")
			require.Contains(t, res.Stdout, "ATTUNE_EXECUTION_ID=42\n")
		})
	}
}

// A declared env that would shadow attune's context, or that is not a shell name, fails the
// run before anything starts, naming the variable.
func TestActionEnvRejectsBadNames(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for name, want := range map[string]string{
		"ATTUNE_EXECUTION_ID": "ATTUNE_",
		"attune_pack":         "ATTUNE_",
		"1BAD":                "must match",
		"A-B":                 "must match",
	} {
		req := b.request(`touch "$ATTUNE_TEST_DIR/ran"`)
		req.Action.Env = map[string]string{name: "x"}
		req.Timeout = 10 * time.Second
		res, err := b.set.Run(context.Background(), req)
		require.Error(t, err, name)
		require.Contains(t, res.Error, want, name)
		require.Contains(t, res.Error, name)
	}
	require.NoFileExists(t, b.dir+"/ran")
}
