package params_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/params"
)

// A whole JSON Schema document, read as StackStorm reads core.ask's: `required: true` on a
// property counts, at any depth, and every field at fault is listed.
func TestDocumentSchema(t *testing.T) {
	t.Parallel()
	s, err := params.CompileDocument(map[string]any{"type": "object", "properties": map[string]any{
		"continue": map[string]any{"type": "boolean", "required": true},
		"ticket": map[string]any{"type": "object", "properties": map[string]any{
			"id": map[string]any{"type": "string", "required": true},
		}},
	}})
	require.NoError(t, err)
	require.NoError(t, s.Validate(map[string]any{"continue": false}))
	err = s.Validate(map[string]any{"ticket": map[string]any{"id": 5}})
	require.ErrorIs(t, err, attune.ErrInvalid)
	require.EqualError(t, err, "continue: required; ticket.id: must be a string, got 5")

	_, err = params.CompileDocument(map[string]any{"type": 7})
	require.ErrorIs(t, err, attune.ErrInvalid)
	require.EqualError(t, err, "invalid: schema does not compile: at '/type': value must be one of 'array', 'boolean', 'integer', 'null', 'number', 'object', 'string'; at '/type': got number, want array")
}
