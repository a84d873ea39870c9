package packs

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMergeConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name                     string
		defaults, override, want map[string]any
	}{
		{"NoOverride", map[string]any{"a": 1.0}, nil, map[string]any{"a": 1.0}},
		{"NoDefaults", nil, map[string]any{"a": 1.0}, map[string]any{"a": 1.0}},
		{"NeitherIsEmpty", nil, nil, map[string]any{}},
		{"OverrideWins", map[string]any{"greeting": "hello", "keep": true}, map[string]any{"greeting": "bonjour"},
			map[string]any{"greeting": "bonjour", "keep": true}},
		{"NestedMapsMerge", map[string]any{"api": map[string]any{"url": "https://a", "retries": 3.0}},
			map[string]any{"api": map[string]any{"url": "https://b", "token_header": "X-T"}},
			map[string]any{"api": map[string]any{"url": "https://b", "retries": 3.0, "token_header": "X-T"}}},
		{"ListsAreReplacedNotMerged", map[string]any{"hosts": []any{"a", "b"}}, map[string]any{"hosts": []any{"c"}},
			map[string]any{"hosts": []any{"c"}}},
		{"NullReplaces", map[string]any{"x": "default"}, map[string]any{"x": nil}, map[string]any{"x": nil}},
		{"MapReplacesScalar", map[string]any{"x": "s"}, map[string]any{"x": map[string]any{"k": 1.0}},
			map[string]any{"x": map[string]any{"k": 1.0}}},
		{"ScalarReplacesMap", map[string]any{"x": map[string]any{"k": 1.0}}, map[string]any{"x": "s"}, map[string]any{"x": "s"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, MergeConfig(tt.defaults, tt.override))
		})
	}
}

func TestMergeConfigSharesNothing(t *testing.T) {
	t.Parallel()
	defaults := map[string]any{"api": map[string]any{"url": "a"}, "list": []any{map[string]any{"k": "v"}}}
	override := map[string]any{"extra": map[string]any{"n": 1.0}}

	got := MergeConfig(defaults, override)
	got["api"].(map[string]any)["url"] = "changed"
	got["list"].([]any)[0].(map[string]any)["k"] = "changed"
	got["extra"].(map[string]any)["n"] = 2.0

	require.Equal(t, "a", defaults["api"].(map[string]any)["url"])
	require.Equal(t, "v", defaults["list"].([]any)[0].(map[string]any)["k"])
	require.Equal(t, 1.0, override["extra"].(map[string]any)["n"])
}

// config.schema.yaml is read in the flat shape of action parameters; secret: true loads, with a
// warning at its line saying the value is sealed.
func TestConfigSchemaFile(t *testing.T) {
	fsys := fstest.MapFS{
		"p/pack.yaml":          {Data: []byte("ref: p\nversion: 1.0.0\n")},
		"p/config.schema.yaml": {Data: []byte("host:\n  type: string\n  required: true\nport:\n  type: integer\n  default: 22\n")},
	}
	p, err := Load(fsys, "p", time.Now())
	require.NoError(t, err)
	require.Equal(t, "integer", p.ConfigSchema["port"].Type)
	require.True(t, p.ConfigSchema["host"].Required)

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pack.yaml"), []byte("ref: p\nversion: 1.0.0\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.schema.yaml"), []byte("host:\n  type: string\ntoken:\n  type: string\n  secret: true\n"), 0o600))
	p, warns, err := ValidateDir(context.Background(), dir, time.Now())
	require.NoError(t, err)
	require.True(t, p.ConfigSchema["token"].Secret)
	require.Len(t, warns, 1)
	require.Contains(t, warns[0].Error(), "config.schema.yaml:5:3: config key \"token\" is secret: attune stores its value sealed")
}
