package rules

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// StackStorm's Jinja filters, written as Exchange packs write them: after a pipe, with or
// without parentheses.
func TestRender_JinjaFilters(t *testing.T) {
	t.Parallel()

	env := testEnv(map[string]any{"url": "https://db-01.example:5432", "name": "Web", "quote": `say "hi"`, "tags": []any{"a"}})
	tests := map[string]any{
		"{{ trigger.url | regex_replace('[A-z]+://', '') }}":                       "db-01.example:5432",
		`{{ trigger.url | regex_replace('^(\\w+)://([^:]+).*$', '\\2 via \\1') }}`: "db-01.example via https",
		"{{ trigger.name | upper }}":                                               "WEB",
		"{{ trigger.name | lower }}":                                               "web",
		"{{ trigger.missing | default('none') }}":                                  "none",
		"{{ trigger.name | default('none') }}":                                     "Web",
		"{{ trigger.tags | to_json_string }}":                                      `["a"]`,
		"{{ trigger.quote | json_escape }}":                                        `say \"hi\"`,
		"{{ trigger.name | lower | upper }}":                                       "WEB",
		"{{ 'a | upper' }}":                                                        "a | upper",
		"{{ trigger.name == 'x' || trigger.name == 'Web' }}":                       true,
	}
	for tmpl, want := range tests {
		got, err := Render(map[string]any{"v": tmpl}, env)
		require.NoError(t, err, tmpl)
		require.Equal(t, want, got["v"], tmpl)
	}

	require.ErrorContains(t, CheckTemplates(map[string]any{"v": "{{ trigger.name | capitalize }}"}), "capitalize")
}
