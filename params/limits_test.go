package params_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/params"
)

// nested returns objects nested depth levels deep: {"a": {"a": … "leaf"}}.
func nested(depth int) any {
	var v any = "leaf"
	for range depth {
		v = map[string]any{"a": v}
	}
	return v
}

func TestCheckDepth(t *testing.T) {
	t.Parallel()
	require.NoError(t, params.CheckDepth("payload", nested(64), 64))
	require.NoError(t, params.CheckDepth("payload", []any{"a", map[string]any{"b": 1}}, 2))

	err := params.CheckDepth("payload", nested(65), 64)
	require.ErrorIs(t, err, attune.ErrInvalid)
	require.ErrorContains(t, err, "payload: nested more than 64 levels deep (at payload.a.a.a")
	require.ErrorContains(t, err, "attune accepts at most 64 levels")

	err = params.CheckDepth("parameters", map[string]any{"list": []any{1, []any{[]any{}}}}, 3)
	require.ErrorContains(t, err, "(at parameters.list[1][0])")
	require.Error(t, params.CheckDepth("payload", nested(10_000), 64))
}

func TestCheckJSONDepth(t *testing.T) {
	t.Parallel()
	ok := strings.Repeat(`{"a":`, 64) + "1" + strings.Repeat("}", 64)
	require.NoError(t, params.CheckJSONDepth("payload", []byte(ok), 64))
	require.NoError(t, params.CheckJSONDepth("payload", []byte(`{"s": "[[[[{{{{ \" [[[[", "t": "\\"}`), 1),
		"brackets inside strings do not count")

	deep := []byte(strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000))
	err := params.CheckJSONDepth("payload", deep, 64)
	require.ErrorIs(t, err, attune.ErrInvalid)
	require.ErrorContains(t, err, "payload: nested more than 64 levels deep (at line 1, column 65)")

	err = params.CheckJSONDepth("body", []byte("{\n  \"a\": [[1]]\n}"), 2)
	require.ErrorContains(t, err, "(at line 2, column 9)")
}

func TestCheckPayload(t *testing.T) {
	t.Parallel()
	require.NoError(t, params.CheckPayload(map[string]any{"host": "web-01"}))
	require.ErrorContains(t, params.CheckPayload(nested(65).(map[string]any)), "payload: nested more than 64 levels deep")
	err := params.CheckPayload(map[string]any{"s": strings.Repeat("x", attune.MaxPayloadBytes)})
	require.ErrorIs(t, err, attune.ErrInvalid)
	require.ErrorContains(t, err, "over the limit of 1048576 (1 MiB)")
}
