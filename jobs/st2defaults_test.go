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

// Parameter defaults that are templates over other parameters and config_context are rendered
// per execution, in the order they read each other, keeping the type of a whole template; a
// secret parameter's default sees the pack's secret config value and is stored masked; a
// local-shell-cmd's cmd fills in a rendered default.
func TestStackStormTemplatedDefaultsRender(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	p, err := packs.LoadDir(attunetest.WritePack(t, map[string]string{
		"pack.yaml":          "ref: tpl\nname: tpl\nversion: 0.1.0\n",
		"config.schema.yaml": "count: {type: integer, default: 3}\ntoken: {type: string, secret: true}\nbase: {type: string, default: https://api.example}\n",
		"actions/show.yaml": "name: show\npack: tpl\nrunner_type: python-script\nentry_point: show.py\nparameters:\n" +
			"  url: {type: string, default: \"{{ config_context.base }}/{{ path }}\"}\n" +
			"  path: {type: string, default: \"v1/{{ host | upper }}\"}\n" +
			"  host: {type: string, required: true}\n" +
			"  count: {type: integer, default: \"{{ config_context.count }}\"}\n" +
			"  auth: {type: string, secret: true, default: \"Bearer {{ config_context.token }}\"}\n",
		"actions/show.py": `from st2common.runners.base_action import Action


class Show(Action):
    def run(self, url, path, host, count, auth):
        return {"url": url, "path": path, "count": count, "auth_ok": auth == "Bearer t0k-77"}
`,
		"actions/echo.yaml": "name: echo\npack: tpl\nrunner_type: local-shell-cmd\nparameters:\n" +
			"  cmd: {default: \"echo {{ target }}\", immutable: true}\n" +
			"  target: {type: string, default: \"{{ host }}:{{ port }}\"}\n" +
			"  host: {type: string, required: true}\n  port: {type: integer, default: 22}\n",
	}), time.Now())
	require.NoError(t, err)
	require.NoError(t, packs.ApplyConfig(p, map[string]any{"token": "t0k-77"}))
	_, err = e.Registry.RegisterPack(ctx, p)
	require.NoError(t, err)

	x, data := runST2(t, e, "tpl.show", map[string]any{"host": "db1"})
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, map[string]any{"url": "https://api.example/v1/DB1", "path": "v1/DB1", "count": 3.0, "auth_ok": true}, data["result"])
	require.Equal(t, "********", x.Parameters["auth"])
	require.Equal(t, "https://api.example/v1/DB1", x.Parameters["url"])

	// A value given wins over the template, and what reads it sees the given value.
	x, data = runST2(t, e, "tpl.show", map[string]any{"host": "db1", "path": "v2", "count": 9})
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, "https://api.example/v2", data["result"].(map[string]any)["url"])
	require.Equal(t, 9.0, data["result"].(map[string]any)["count"])

	x, data = runST2(t, e, "tpl.echo", map[string]any{"host": "web 1"})
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, "web 1:22", data["stdout"])
}

// A workflow task that runs a StackStorm action gets its templated defaults rendered, as a rule
// or attune run does, not their template text.
func TestStackStormTemplatedDefaultsInWorkflowTask(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	registerST2(t, e, map[string]string{
		"pack.yaml": "ref: tpl\nname: tpl\nversion: 0.1.0\n",
		"actions/echo.yaml": "name: echo\npack: tpl\nrunner_type: local-shell-cmd\nparameters:\n" +
			"  cmd: {default: \"echo {{ target }}\", immutable: true}\n" +
			"  target: {type: string, default: \"{{ host }}:{{ port }}\"}\n" +
			"  host: {type: string, required: true}\n  port: {type: integer, default: 22}\n",
	})
	registerWorkflows(t, e, map[string]string{"tpl": `
version: 1.0
output:
  - said: <% ctx().said %>
tasks:
  echo:
    action: tpl.echo host=web1
    next:
      - when: <% succeeded() %>
        publish: said=<% result().stdout %>
`})
	x, res := runWorkflow(t, e, "tpl", nil)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, "web1:22", res["output"].(map[string]any)["said"], "result: %v", res)
}
