package params_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/params"
)

// Nested schemas in StackStorm's shape check values: items of an array, properties of an
// object (required: true on a property), additionalProperties; secret and position inside
// them do not break the schema, and SecretParts finds the secret leaves.
func TestNestedSchemas(t *testing.T) {
	t.Parallel()
	s := attune.ParamSchema{
		"accounts": {Type: "array", Items: map[string]any{"type": "object", "required": true, "properties": map[string]any{
			"name":     map[string]any{"type": "string", "required": true},
			"password": map[string]any{"type": "string", "secret": true},
			"port":     map[string]any{"type": "integer", "default": 465.0},
		}}},
		"tags": {Type: "object", AdditionalProperties: map[string]any{"type": "string"}},
	}
	good := map[string]any{"accounts": []any{map[string]any{"name": "a", "password": "pw1", "port": 25}}, "tags": map[string]any{"x": "y"}}
	_, err := params.Apply(s, good)
	require.NoError(t, err)

	_, err = params.Apply(s, map[string]any{"accounts": []any{map[string]any{"password": "pw", "port": "25"}}, "tags": map[string]any{"x": 1}})
	require.Error(t, err)
	require.ErrorIs(t, err, attune.ErrInvalid)
	for _, want := range []string{"accounts", "tags"} {
		require.Contains(t, err.Error(), want)
	}

	require.Equal(t, []any{"pw1"}, params.SecretParts(good["accounts"], s["accounts"]))
	require.Equal(t, "items.properties.password", params.NestedSecret(map[string]any{"items": s["accounts"].Items}))
}
