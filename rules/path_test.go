package rules

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseField(t *testing.T) {
	t.Parallel()

	tests := []struct {
		field   string
		want    fieldPath
		wantErr string
	}{
		{field: "level", want: fieldPath{"level"}},
		{field: "user.name", want: fieldPath{"user", "name"}},
		{field: "trigger.level", want: fieldPath{"level"}},
		{field: "payload.level", want: fieldPath{"level"}},
		{field: "event.payload.level", want: fieldPath{"level"}},
		{field: "payload.payload.x", want: fieldPath{"payload", "x"}},
		{field: "trigger", want: fieldPath{}},
		{field: "tags.0", want: fieldPath{"tags", "0"}},
		{field: "tags[1].name", want: fieldPath{"tags", "1", "name"}},
		{field: "trigger.headers['X-Request-Id']", want: fieldPath{"headers", "X-Request-Id"}},
		{field: `trigger["a.b"]`, want: fieldPath{"a.b"}},
		{field: "", wantErr: "is empty"},
		{field: "a..b", wantErr: `"a..b": has an empty segment`},
		{field: "a.", wantErr: "ends with a dot"},
		{field: "a['b", wantErr: "unterminated"},
		{field: "a[x]", wantErr: "quote keys"},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			t.Parallel()

			got, err := parseField(tt.field, payloadAliases)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestFieldPathLookup(t *testing.T) {
	t.Parallel()

	payload := map[string]any{
		"user": map[string]any{"name": "ada"},
		"tags": []any{"a", map[string]any{"k": "v"}},
		"nil":  nil,
	}
	tests := []struct {
		field   string
		want    any
		present bool
	}{
		{field: "user.name", want: "ada", present: true},
		{field: "tags.0", want: "a", present: true},
		{field: "tags[1].k", want: "v", present: true},
		{field: "nil", want: nil, present: true},
		{field: "tags.2", present: false},
		{field: "tags.x", present: false},
		{field: "user.name.first", present: false},
		{field: "missing", present: false},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			t.Parallel()

			path, err := parseField(tt.field, payloadAliases)
			require.NoError(t, err)
			got, present := path.lookup(payload)
			require.Equal(t, tt.present, present)
			require.Equal(t, tt.want, got)
		})
	}
}
