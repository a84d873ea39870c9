package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/packs"
)

// registerST2 writes a pack from files, loads it and registers it on e.
func registerST2(t *testing.T, e *attunetest.Env, files map[string]string) *attune.Pack {
	t.Helper()
	p, err := packs.LoadDir(attunetest.WritePack(t, files), time.Now())
	require.NoError(t, err)
	_, err = e.Timers.RegisterPack(context.Background(), p)
	require.NoError(t, err)
	return p
}

// A StackStorm action whose name holds dots registers and runs by its full ref.
func TestStackStormDottedActionRuns(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerST2(t, e, map[string]string{
		"pack.yaml":                      "ref: ansible\nname: ansible\nversion: 0.1.0\n",
		"actions/galaxy.install.yaml":    "name: galaxy.install\npack: ansible\nrunner_type: noop\nparameters:\n  roles: {type: array}\n",
		"actions/galaxy.install.sh.yaml": "name: galaxy.list\npack: ansible\nrunner_type: noop\n",
	})
	a, _, err := e.DB.Read().Action(ctx, "ansible.galaxy.install")
	require.NoError(t, err)
	require.Equal(t, "ansible", a.PackRef)

	x, err := e.P.Run(ctx, "ansible.galaxy.install", map[string]any{"roles": []any{"x"}}, 0)
	require.NoError(t, err)
	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
}
