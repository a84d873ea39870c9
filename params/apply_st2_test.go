package params

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// StackStorm's immutable parameters keep their default: a caller's other value is refused, in
// Apply and in a rule's literal or templated parameters; the default itself may be repeated.
func TestImmutableParameterKeepsItsDefault(t *testing.T) {
	t.Parallel()
	s := attune.ParamSchema{
		"cmd":  {Type: "string", Default: "uptime", Immutable: true},
		"host": {Type: "string"},
	}
	got, err := Apply(s, map[string]any{"host": "h"})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"cmd": "uptime", "host": "h"}, got)

	_, err = Apply(s, map[string]any{"cmd": "uptime"})
	require.NoError(t, err)

	_, err = Apply(s, map[string]any{"cmd": "rm -rf /"})
	require.EqualError(t, err, "cmd: immutable: it always has its default; leave it out")
	require.ErrorIs(t, err, attune.ErrInvalid)

	require.EqualError(t, CheckLiteral(s, map[string]any{"cmd": "{{ trigger.x }}"}), "cmd: immutable: it always has its default; leave it out")
}
