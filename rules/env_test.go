package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

var (
	testCreated = time.Date(2026, 3, 1, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	testNow     = time.Date(2026, 3, 1, 9, 0, 5, 0, time.UTC)
)

// testEnv builds the Env of an event with payload for the rule "ops.notify" in pack "ops".
func testEnv(payload map[string]any) Env {
	ev := attune.Event{ID: 42, TriggerRef: "ops.alert", Payload: payload, CreatedAt: testCreated}
	rule := attune.Rule{ID: 7, Ref: "ops.notify", PackRef: "ops", TriggerRef: "ops.alert", ActionRef: "core.echo"}
	return NewEnv(ev, rule, map[string]any{"channel": "#ops", "retries": float64(3)}, testNow)
}

func TestNewEnv(t *testing.T) {
	t.Parallel()

	env := testEnv(map[string]any{"level": "error"})

	require.Equal(t, Env{
		"event": map[string]any{
			"id":          int64(42),
			"trigger_ref": "ops.alert",
			"payload":     map[string]any{"level": "error"},
			"created_at":  "2026-03-01T09:00:00Z",
		},
		"rule": map[string]any{
			"id": int64(7), "ref": "ops.notify", "pack_ref": "ops", "trigger_ref": "ops.alert", "action_ref": "core.echo",
		},
		"pack":           map[string]any{"ref": "ops", "config": map[string]any{"channel": "#ops", "retries": float64(3)}},
		"config_context": map[string]any{"channel": "#ops", "retries": float64(3)},
		"trigger":        map[string]any{"level": "error"},
		"system": map[string]any{
			"now": testNow, "timestamp": "2026-03-01T09:00:05Z", "rule": map[string]any{"id": int64(7), "ref": "ops.notify"},
		},
	}, env)
}

func TestNewEnv_NilPayloadAndConfigAreEmptyMaps(t *testing.T) {
	t.Parallel()

	env := NewEnv(attune.Event{}, attune.Rule{}, nil, testNow)

	require.Equal(t, map[string]any{}, env.payload())
	require.Equal(t, map[string]any{}, env["pack"].(map[string]any)["config"])
}
