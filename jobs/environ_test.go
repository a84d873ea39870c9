package jobs_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/internal/attunetest"
)

// envPack has a shell and a Python action that print their whole environment.
var envPack = map[string]string{
	"pack.yaml":            "ref: envdump\nversion: 1.0.0\n",
	"actions/sh.yaml":      "ref: sh\nrunner_type: shell\nentry_point: sh.sh\nenv: {GREETING: \"hello $HOME\"}\n",
	"actions/sh.sh":        "env\necho \"stderr: $(env | tr '\\n' ' ')\" >&2\n",
	"actions/py.yaml":      "ref: py\nrunner_type: python\nentry_point: py.py\nenv: {GREETING: \"hello $HOME\"}\n",
	"actions/py.py":        "import os, sys\nfor k, v in os.environ.items():\n    print(k + '=' + v)\n    print(k + '=' + v, file=sys.stderr)\n",
	"actions/failing.yaml": "ref: failing\nrunner_type: shell\nentry_point: failing.sh\n",
	"actions/failing.sh":   "env | tr '\\n' ' ' >&2\nexit 3\n",
}

// The worker's own configuration never reaches an action, what the action declares in env does: with ATTUNE_SECRETS_KEY and
// ATTUNE_DATABASE_URL in the worker's environment, a shell and a Python action that print their
// whole environment (on stdout and stderr, completing or failing) show neither value, and
// neither appears in the stored result, in the logs, or in any column of any table.
//
// Not parallel: it sets the process's environment, which the worker reads.
func TestWorkerEnvironmentNeverReachesActions(t *testing.T) {
	logs := &syncBuffer{}
	e := attunetest.New(t, attunetest.Options{
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	key := base64.StdEncoding.EncodeToString([]byte(randomSecret(t, "key-of-the-worker")[:32]))
	t.Setenv("ATTUNE_SECRETS_KEY", key)
	t.Setenv("ATTUNE_DATABASE_URL", e.URL)
	ctx := context.Background()
	registerPack(t, e, envPack)

	for _, ref := range []string{"envdump.sh", "envdump.py", "envdump.failing"} {
		x, err := e.P.Run(ctx, ref, nil, 0)
		require.NoError(t, err)
		x = e.WaitTerminal(t, x.ID, 30*time.Second)
		r := result(t, x)
		if ref == "envdump.failing" {
			require.Equal(t, attune.StatusFailed, x.Status)
			require.Contains(t, r["stderr"], "ATTUNE_EXECUTION_ID=", "the action printed its environment")
		} else {
			require.Equal(t, attune.StatusCompleted, x.Status, "%s", x.Error)
			require.Contains(t, r["stdout"], "ATTUNE_ACTION="+ref+"\n", "the action printed its environment")
			require.Contains(t, r["stdout"], "PATH=")
			require.Contains(t, r["stdout"], "GREETING=hello $HOME\n", "the action's declared env, literally")
		}
		for _, s := range []string{key, e.URL} {
			require.NotContains(t, string(x.Result), s, "%s: the stored result holds a worker secret", ref)
			require.NotContains(t, x.Error, s)
		}
		require.NotContains(t, string(x.Result), "ATTUNE_SECRETS_KEY")
		require.NotContains(t, string(x.Result), "ATTUNE_DATABASE_URL")
	}

	var tables []string
	rows, err := e.DB.Pool.Query(ctx, `SELECT table_schema || '.' || table_name FROM information_schema.tables
		WHERE table_schema IN ('attune', 'public') AND table_type = 'BASE TABLE' ORDER BY 1`)
	require.NoError(t, err)
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	require.NoError(t, rows.Err())
	require.Contains(t, tables, "attune.execution")
	for _, table := range tables {
		text := tableText(t, e, table)
		require.NotContains(t, text, key, "%s holds the secrets key", table)
		require.NotContains(t, text, e.URL, "%s holds the database URL", table)
	}
	require.Contains(t, logs.String(), "execution finished", "the logs were captured")
	require.NotContains(t, logs.String(), key)
	require.NotContains(t, logs.String(), e.URL)
}
