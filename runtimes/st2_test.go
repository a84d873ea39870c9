package runtimes

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// local-shell-cmd fills each {{ parameter }} or {{ expression }} (StackStorm's filters) with the
// value quoted for the shell, as one word; config_context, cmd itself and {% %} are refused.
func TestRenderCmd(t *testing.T) {
	t.Parallel()
	got, err := RenderCmd("ping -c {{ count }} {{host}} -{{ mode }} {{ opts }} {{ missing }} {{ flag }} {{ tags }}", map[string]any{
		"count": 3.0, "host": "a'b; rm -rf ~", "mode": "w", "opts": "-G 5", "flag": false, "tags": []any{"x", 1.5},
	})
	require.NoError(t, err)
	require.Equal(t, `ping -c '3' 'a'\''b; rm -rf ~' -'w' '-G 5' '' 'False' '["x",1.5]'`, got)

	got, err = RenderCmd("ping -c {{ count }} {{ host | regex_replace('[A-z]+://', '') }} {{ host | upper }}", map[string]any{
		"count": 2.0, "host": "http://db1.example;id"})
	require.NoError(t, err)
	require.Equal(t, `ping -c '2' 'db1.example;id' 'HTTP://DB1.EXAMPLE;ID'`, got)

	for _, bad := range []string{"echo {{ config_context.x }}", "echo {{ cmd }}", "{% if x %}y{% endif %}", "echo {{ nope | upper }}"} {
		_, err := RenderCmd(bad, map[string]any{"host": "h"})
		require.Error(t, err, bad)
	}
}

// local-shell-script arguments follow StackStorm's conventions, without runner or secret
// parameters.
func TestScriptArgs(t *testing.T) {
	t.Parallel()
	pos := func(i int) *int { return &i }
	schema := attune.ParamSchema{
		"a":   {Type: "string", Position: pos(0)},
		"b":   {Type: "boolean", Position: pos(1)},
		"c":   {Type: "array", Position: pos(3)},
		"pw":  {Type: "string", Secret: true, Position: pos(2)},
		"on":  {Type: "boolean"},
		"off": {Type: "boolean"},
		"n":   {Type: "integer"},
		"e":   {Type: "string"},
	}
	args, secrets := ScriptArgs(schema, map[string]any{
		"a": "x y", "b": true, "c": []any{"p", "q"}, "pw": "hunter2", "on": true, "off": false, "n": 7.0, "e": "",
		"kwarg_op": "-", "cmd": "ignored", "timeout": 5.0,
	})
	require.Equal(t, []string{"-n=7", "-on", "x y", "1", "", "p,q"}, args)
	require.Equal(t, map[string]any{"pw": "hunter2"}, secrets)
}
