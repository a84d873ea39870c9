package jobs_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/attunetest"
)

// StackStorm's core.inject_trigger emits an event that rules match like any other, and
// core.pause sleeps max_pause seconds through its fixed command: a rule on one trigger injects
// another, whose rule pauses.
func TestST2InjectTriggerAndPause(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerPack(t, e, map[string]string{
		"pack.yaml":          "ref: mon\nversion: 1.0.0\n",
		"triggers/go.yaml":   "ref: go\n",
		"triggers/down.yaml": "ref: down\n",
		"rules/inject.yaml": `name: inject
pack: mon
trigger: {type: mon.go}
action:
  ref: core.inject_trigger
  parameters:
    trigger: mon.down
    payload: {host: "{{ trigger.host }}"}
`,
		"rules/pause.yaml": `name: pause
pack: mon
trigger: {type: mon.down}
criteria:
  trigger.host: {type: equals, pattern: db-01}
action:
  ref: core.pause
  parameters: {max_pause: 0}
`,
	})
	ev, err := e.P.EmitEvent(ctx, db.NewEvent{TriggerRef: "mon.go", Payload: map[string]any{"host": "db-01"}})
	require.NoError(t, err)
	var inject attune.Execution
	require.Eventually(t, func() bool {
		xs, err := e.DB.AutoCommit().ExecutionsByEvent(ctx, ev.ID)
		require.NoError(t, err)
		if len(xs) == 1 {
			inject = xs[0]
		}
		return len(xs) == 1 && xs[0].Status.Terminal()
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, attune.StatusCompleted, inject.Status, inject.Error)
	var result struct {
		Data struct {
			EventID int64 `json:"event_id"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(inject.Result, &result))
	injected := result.Data.EventID
	require.NotZero(t, injected, "the result names the event: %s", inject.Result)

	var pause attune.Execution
	require.Eventually(t, func() bool {
		xs, err := e.DB.AutoCommit().ExecutionsByEvent(ctx, injected)
		require.NoError(t, err)
		if len(xs) == 1 {
			pause = xs[0]
		}
		return len(xs) == 1 && xs[0].Status.Terminal()
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, attune.StatusCompleted, pause.Status, pause.Error)
	require.Equal(t, "core.pause", pause.ActionRef)
}
