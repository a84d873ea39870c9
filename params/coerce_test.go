package params_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/params"
)

func TestCoerce(t *testing.T) {
	t.Parallel()
	s := attune.ParamSchema{
		"i": {Type: "integer"}, "n": {Type: "number"}, "b": {Type: "boolean"},
		"o": {Type: "object"}, "a": {Type: "array"}, "s": {Type: "string"}, "u": {},
	}
	tests := []struct {
		name string
		key  string
		in   any
		want any
	}{
		{"integer", "i", "5", 5.0},
		{"negative integer, spaces", "i", " -12 ", -12.0},
		{"integer from a fraction stays a string", "i", "1.5", "1.5"},
		{"integer from text stays a string", "i", "five", "five"},
		{"integer beyond 2^53 stays a string", "i", "9007199254740993", "9007199254740993"},
		{"number", "n", "2.5", 2.5},
		{"number in exponent form", "n", "1e3", 1000.0},
		{"number NaN stays a string", "n", "NaN", "NaN"},
		{"number Inf stays a string", "n", "Inf", "Inf"},
		{"boolean true", "b", "true", true},
		{"boolean FALSE", "b", "FALSE", false},
		{"boolean yes stays a string", "b", "yes", "yes"},
		{"boolean 1 stays a string", "b", "1", "1"},
		{"object from JSON", "o", `{"k": 1}`, map[string]any{"k": 1.0}},
		{"object from a list stays a string", "o", `[1]`, `[1]`},
		{"array from JSON", "a", `["x", 2]`, []any{"x", 2.0}},
		{"array from a comma list stays a string", "a", "x,y", "x,y"},
		{"string is never touched", "s", "5", "5"},
		{"untyped is never touched", "u", "5", "5"},
		{"unknown is never touched", "zz", "5", "5"},
		{"a non-string (key:=JSON) is never touched", "s", 5.0, 5.0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := map[string]any{tt.key: tt.in}
			got := params.Coerce(s, in, []string{tt.key})
			require.Equal(t, map[string]any{tt.key: tt.want}, got)
			require.Equal(t, tt.in, in[tt.key], "the input is not modified")
		})
	}

	// Only the names given are coerced: key:=JSON values are passed as they are.
	got := params.Coerce(s, map[string]any{"i": "5", "n": "2"}, []string{"n"})
	require.Equal(t, map[string]any{"i": "5", "n": 2.0}, got)
}
