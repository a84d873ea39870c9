package rules

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// The cache compiles a rule's criteria once, again only when the rule's criteria change, and
// keeps a compile error as well.
func TestCriteriaCache(t *testing.T) {
	t.Parallel()

	var cache CriteriaCache
	raw := json.RawMessage(`[{"field":"level","operator":"regex","value":"^err"}]`)
	c1, err := cache.Get(1, raw)
	require.NoError(t, err)
	c2, err := cache.Get(1, append(json.RawMessage{}, raw...))
	require.NoError(t, err)
	require.Same(t, c1, c2, "same text: compiled once")

	other, err := cache.Get(2, raw)
	require.NoError(t, err)
	require.NotSame(t, c1, other, "entries are per rule")

	changed, err := cache.Get(1, json.RawMessage(`[{"field":"level","operator":"eq","value":"info"}]`))
	require.NoError(t, err)
	require.NotSame(t, c1, changed, "changed criteria are compiled again")
	out, err := changed.Match(testEnv(map[string]any{"level": "info"}))
	require.NoError(t, err)
	require.True(t, out.Matched)

	_, err = cache.Get(3, json.RawMessage(`[{"field":"a","operator":"nope","value":1}]`))
	require.ErrorIs(t, err, attune.ErrInvalid)
	_, err2 := cache.Get(3, json.RawMessage(`[{"field":"a","operator":"nope","value":1}]`))
	require.Equal(t, err, err2, "the compile error is kept")
}
