package jobs_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/internal/attunetest"
)

// Shapes the Exchange's packs use run as written: the old import path
// st2actions.runners.pythonrunner, the pre-1.0 runner name run-python, ansible's python
// local-shell-scripts (#!/opt/stackstorm/st2/bin/python, lib/, cwd "/opt/stackstorm/packs/{{
// action_context.pack }}"), and a local-shell-cmd whose cmd applies a filter
// (networking_utils' ping strips a URL scheme), each value still one shell word.
func TestStackStormExchangeShapesRun(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	registerST2(t, e, map[string]string{
		"pack.yaml":        "ref: netu\nname: netu\nversion: 0.1.0\n",
		"actions/old.yaml": "name: old\npack: netu\nrunner_type: run-python\nentry_point: old.py\nparameters:\n  hostname: {type: string, required: true}\n",
		"actions/old.py": `from st2actions.runners.pythonrunner import Action


class Old(Action):
    def run(self, hostname):
        return {"final_dot": hostname.endswith(".")}
`,
		"requirements.txt": "pip\n",
		"actions/galaxy.yaml": "name: galaxy.install\npack: netu\nrunner_type: local-shell-script\nentry_point: galaxy.py\nparameters:\n" +
			"  cwd: {type: string, default: \"/opt/stackstorm/packs/{{ action_context.pack }}\"}\n" +
			"  roles: {type: string, position: 0}\n",
		"actions/galaxy.py":       "#!/opt/stackstorm/st2/bin/python\nimport os, sys\nfrom lib.base import name\nprint(name(sys.argv[1]), os.path.exists('galaxy.py'), sys.prefix)\n",
		"actions/lib/__init__.py": "",
		"actions/lib/base.py":     "def name(x):\n    return 'role:' + x\n",
		"actions/lib/jbase.py": "from st2common.runners.base_action import Action\n\n\nclass JBase(Action):\n" +
			"    def __init__(self, config):\n        super(JBase, self).__init__(config)\n        self.url = config.get('url', 'none')\n",
		"actions/jobs.yaml": "name: jobs\npack: netu\nrunner_type: python-script\nentry_point: jobs.py\n",
		"actions/jobs.py": "from lib.jbase import JBase\n\n\nclass Jobs(JBase):\n    def run(self):\n" +
			"        return [self.url, self.action_service.get_value('last')]\n",
		"actions/echo.yaml": "name: echo\npack: netu\nrunner_type: local-shell-cmd\nparameters:\n" +
			"  host: {type: string, required: true}\n  count: {type: integer, default: 2}\n" +
			"  cmd: {type: string, immutable: true, default: \"echo -c {{ count }} {{ host | regex_replace('[A-z]+://', '') }}\"}\n",
	})
	x, data := runST2(t, e, "netu.old", map[string]any{"hostname": "db1.example."})
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, map[string]any{"final_dot": true}, data["result"])

	// A python local-shell-script with StackStorm's own #! line runs on the pack's virtualenv,
	// imports its lib/, and StackStorm's "current pack dir" is its own directory.
	x, data = runST2(t, e, "netu.galaxy.install", map[string]any{"roles": "web"})
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Regexp(t, `^role:web True .*/virtualenvs/netu-[0-9a-f]{16}$`, data["stdout"])
	require.Equal(t, "/opt/stackstorm/packs/netu", x.Parameters["cwd"])

	// jenkins' base class takes config alone: action_service is set after, as StackStorm does.
	x, data = runST2(t, e, "netu.jobs", nil)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, []any{"none", nil}, data["result"])

	x, data = runST2(t, e, "netu.echo", map[string]any{"host": "http://db1.example;id"})
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, "-c 2 db1.example;id", data["stdout"])
}
