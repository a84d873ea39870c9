package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

func TestSnakeCase(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"PackRef": "pack_ref", "PID": "pid", "ExecutionID": "execution_id",
		"LastSeenAt": "last_seen_at", "HTTPStatus": "http_status", "ID": "id", "TimeoutSec": "timeout_sec", "V2Name": "v2_name"} {
		require.Equal(t, want, snakeCase(in), in)
	}
}

func TestSnakeJSONKeepsUserData(t *testing.T) {
	t.Parallel()
	r := attune.Rule{Ref: "p.r", PackRef: "p", Criteria: json.RawMessage(`{"payload.Level": {"eq": "x"}}`),
		ActionParams: map[string]any{"MixedCase": 1}}
	b, err := json.Marshal(snakeJSON([]attune.Rule{r}))
	require.NoError(t, err)
	require.Contains(t, string(b), `"pack_ref":"p"`)
	require.Contains(t, string(b), `"payload.Level"`, "criteria are the user's")
	require.Contains(t, string(b), `"MixedCase":1`, "parameters are the user's")
	require.NotContains(t, string(b), "PackRef")
	w, err := json.Marshal(snakeJSON(attune.Worker{LastSeenAt: time.Unix(0, 0).UTC()}))
	require.NoError(t, err)
	require.Contains(t, string(w), `"last_seen_at":"1970-01-01T00:00:00Z"`)
	e, err := json.Marshal(snakeJSON([]attune.Event(nil)))
	require.NoError(t, err)
	require.Equal(t, "[]", string(e))
}
