package jobs_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/internal/attunetest"
)

// A pack with a requirements.txt runs its python actions in its own virtualenv, made by the
// worker with the system's site packages (pip is one of those); a requirement no index could
// install fails the action that imports it with the requirements.txt line and the reason, not
// a bare traceback.
func TestStackStormPackVirtualenv(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	registerST2(t, e, map[string]string{
		"pack.yaml":          "ref: deps\nname: deps\nversion: 0.1.0\n",
		"requirements.txt":   "# what the actions need\npip\nattune-nosuch-dist>=1.0  # not on this machine\n",
		"actions/where.yaml": "name: where\npack: deps\nrunner_type: python-script\nentry_point: where.py\n",
		"actions/where.py": `import sys

import pip

from st2common.runners.base_action import Action


class Where(Action):
    def run(self):
        return {"prefix": sys.prefix, "base": sys.base_prefix, "pip": pip.__name__}
`,
		"actions/needs.yaml": "name: needs\npack: deps\nrunner_type: python-script\nentry_point: needs.py\n",
		"actions/needs.py": `from st2common.runners.base_action import Action

import attune_nosuch_dist


class Needs(Action):
    def run(self):
        return attune_nosuch_dist.x
`,
	})
	x, data := runST2(t, e, "deps.where", nil)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	res := data["result"].(map[string]any)
	require.Regexp(t, `/virtualenvs/deps-[0-9a-f]{16}$`, res["prefix"])
	require.NotEqual(t, res["base"], res["prefix"])
	require.Equal(t, "pip", res["pip"])

	x, data = runST2(t, e, "deps.needs", nil)
	require.Equal(t, attune.StatusFailed, x.Status)
	want := "attune: the action imports module 'attune_nosuch_dist', which is not installed: requirements.txt line 3 (attune-nosuch-dist>=1.0) " +
		"was not installed in the pack's virtualenv: no package index is configured (packs.pip_index_url), and the system's python does not have it"
	require.Contains(t, data["stderr"], want)
	require.Equal(t, want, x.Error)
}
