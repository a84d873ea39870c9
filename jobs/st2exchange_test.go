package jobs_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/internal/attunetest"
)

// Shapes the Exchange's packs use run as written: the old import path
// st2actions.runners.pythonrunner, the pre-1.0 runner name run-python, and a local-shell-cmd
// whose cmd applies a filter (networking_utils' ping strips a URL scheme), each value still
// filled in as one shell word.
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
		"actions/echo.yaml": "name: echo\npack: netu\nrunner_type: local-shell-cmd\nparameters:\n" +
			"  host: {type: string, required: true}\n  count: {type: integer, default: 2}\n" +
			"  cmd: {type: string, immutable: true, default: \"echo -c {{ count }} {{ host | regex_replace('[A-z]+://', '') }}\"}\n",
	})
	x, data := runST2(t, e, "netu.old", map[string]any{"hostname": "db1.example."})
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, map[string]any{"final_dot": true}, data["result"])

	x, data = runST2(t, e, "netu.echo", map[string]any{"host": "http://db1.example;id"})
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, "-c 2 db1.example;id", data["stdout"])
}
