package rules

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A Language adds functions that see the Env they run against and charge the same budget; the
// rules' own language does not gain them, and the same text compiles separately in each.
func TestLanguage(t *testing.T) {
	t.Parallel()
	lang := NewLanguage("test", []string{"x"}, map[string]Func{
		"who": func(env map[string]any, b *Budget, args ...any) (any, error) {
			if err := b.Charge("who", 10); err != nil {
				return nil, err
			}
			return env["name"], nil
		},
	})
	p, err := lang.Compile(`who() + "!" + x.y`, true)
	require.NoError(t, err)
	v, err := p.Run(map[string]any{"name": "ann", "x": map[string]any{"y": "?"}}, NewBudget())
	require.NoError(t, err)
	require.Equal(t, "ann!?", v)
	require.True(t, p.Calls("who"))
	other, err := lang.Compile(`"who()" + x.y`, true)
	require.NoError(t, err)
	require.False(t, other.Calls("who"), "text is not a call")

	_, err = p.Run(map[string]any{"name": "ann", "x": map[string]any{}}, NewBudget())
	require.ErrorContains(t, err, "x.y is missing", "strict: a missing key is an error")

	_, err = compile(`who() + "!" + x.y`, true)
	require.ErrorContains(t, err, "unknown name who", "the rules' own language has no who()")

	p, err = lang.Compile(`repeat("ab", 9000000)`, false)
	require.NoError(t, err)
	_, err = p.Run(map[string]any{}, NewBudget())
	require.ErrorContains(t, err, "over what is left of the expression budget")
}
