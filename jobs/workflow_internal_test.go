package jobs

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/runtimes"
)

// result() gives workflows StackStorm's local-runner shape of a shell result, the python
// runner's of a python-script one, and a child workflow's result as it is.
func TestResultView(t *testing.T) {
	shell := runtimes.Result{Status: attune.StatusCompleted, Stdout: "hi\n", Stderr: "warn\n"}
	v := resultView(attune.Execution{Result: shell.JSON()}).(map[string]any)
	require.Equal(t, "hi", v["stdout"])
	require.Equal(t, "warn", v["stderr"])
	require.Equal(t, float64(0), v["return_code"])
	require.Equal(t, true, v["succeeded"])

	failed := runtimes.Result{Status: attune.StatusFailed, ExitCode: 2, Stdout: "a\nb\n\n", Error: "exited with code 2"}
	v = resultView(attune.Execution{Result: failed.JSON()}).(map[string]any)
	require.Equal(t, "a\nb\n", v["stdout"], "only the final newline is stripped")
	require.Equal(t, float64(2), v["return_code"])
	require.Equal(t, false, v["succeeded"])
	require.Equal(t, "exited with code 2", v["error"])

	python := runtimes.Result{Status: attune.StatusCompleted, Stdout: "log\n",
		Data: map[string]any{"result": map[string]any{"n": 1}, "stdout": "log\n", "stderr": "", "exit_code": 0}}
	v = resultView(attune.Execution{Result: python.JSON()}).(map[string]any)
	require.Equal(t, map[string]any{"n": float64(1)}, v["result"])
	require.Equal(t, "log", v["stdout"])
	require.Equal(t, float64(0), v["return_code"])
	require.Equal(t, true, v["succeeded"])

	wf, _ := json.Marshal(map[string]any{"output": map[string]any{"x": 1}})
	require.Equal(t, map[string]any{"output": map[string]any{"x": float64(1)}}, resultView(attune.Execution{Result: wf}))
	require.Nil(t, resultView(attune.Execution{}))
}
