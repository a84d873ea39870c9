package rules

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// templatePayload is the payload the template tests render from.
var templatePayload = map[string]any{
	"message": "disk full",
	"count":   float64(3),
	"ratio":   0.25,
	"ok":      false,
	"host":    map[string]any{"name": "web-01", "tags": []any{"prod", "eu"}},
	"tags":    []any{"a", "b"},
	"html":    "<b>&</b>",
	"nothing": nil,
}

func TestRender(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		params map[string]any
		want   map[string]any
	}{
		{
			name:   "whole template keeps a number",
			params: map[string]any{"n": "{{ event.payload.count }}"},
			want:   map[string]any{"n": float64(3)},
		},
		{
			name:   "whole template keeps an int from arithmetic",
			params: map[string]any{"n": "{{ 1 + 2 }}", "id": "{{ event.id }}"},
			want:   map[string]any{"n": 3, "id": int64(42)},
		},
		{
			name:   "whole template keeps a float, a bool, a map, a slice and nil",
			params: map[string]any{"f": "{{ event.payload.ratio }}", "b": "{{ event.payload.ok }}", "m": "{{ event.payload.host }}", "s": "{{ event.payload.tags }}", "z": "{{ event.payload.nothing }}"},
			want:   map[string]any{"f": 0.25, "b": false, "m": templatePayload["host"], "s": []any{"a", "b"}, "z": nil},
		},
		{
			name:   "whitespace around a whole template is dropped",
			params: map[string]any{"n": "  {{ event.payload.count }}\n"},
			want:   map[string]any{"n": float64(3)},
		},
		{
			name:   "a missing key with a default",
			params: map[string]any{"n": "{{ event.payload.nope ?? 5 }}", "m": "[{{ event.payload.nope ?? '' }}]", "deep": "{{ event.payload.nope.deeper[0] ?? false }}"},
			want:   map[string]any{"n": 5, "m": "[]", "deep": false},
		},
		{
			name:   "optional chaining reads a missing key as nil",
			params: map[string]any{"n": "{{ event.payload?.nope }}", "m": "[{{ event.payload.host?.nope }}]"},
			want:   map[string]any{"n": nil, "m": "[]"},
		},
		{
			name:   "a present null stays null",
			params: map[string]any{"n": "{{ event.payload.nothing }}", "m": "[{{ event.payload.nothing }}]"},
			want:   map[string]any{"n": nil, "m": "[]"},
		},
		{
			name:   "mixed strings interpolate",
			params: map[string]any{"message": "{{ event.payload.message }} on {{ event.payload.host.name }} ({{ event.payload.count }}x, ratio {{ event.payload.ratio }}, ok={{ event.payload.ok }})"},
			want:   map[string]any{"message": "disk full on web-01 (3x, ratio 0.25, ok=false)"},
		},
		{
			name:   "mixed strings render maps and slices as compact JSON without HTML escaping",
			params: map[string]any{"m": "host={{ event.payload.host }} tags={{ event.payload.tags }} html={{ [event.payload.html] }}"},
			want:   map[string]any{"m": `host={"name":"web-01","tags":["prod","eu"]} tags=["a","b"] html=["<b>&</b>"]`},
		},
		{
			name:   "two templates are a mixed string even with nothing between them",
			params: map[string]any{"m": "{{ event.payload.count }}{{ event.payload.count }}"},
			want:   map[string]any{"m": "33"},
		},
		{
			name:   "env roots",
			params: map[string]any{"m": "{{ rule.ref }} {{ pack.config.channel }} {{ system.timestamp }} {{ event.created_at }} {{ event.trigger_ref }}"},
			want:   map[string]any{"m": "ops.notify #ops 2026-03-01T09:00:05Z 2026-03-01T09:00:00Z ops.alert"},
		},
		{
			name: "nested params: maps in slices in maps",
			params: map[string]any{
				"items": []any{
					map[string]any{"name": "{{ event.payload.host.name }}", "tags": []any{"{{ event.payload.tags[0] }}", 7}},
					"{{ upper(event.payload.message) }}",
				},
			},
			want: map[string]any{
				"items": []any{
					map[string]any{"name": "web-01", "tags": []any{"a", 7}},
					"DISK FULL",
				},
			},
		},
		{
			name:   "non-strings and plain strings pass through",
			params: map[string]any{"n": 1.5, "b": true, "z": nil, "s": "no template { here }", "raw": json.Number("12")},
			want:   map[string]any{"n": 1.5, "b": true, "z": nil, "s": "no template { here }", "raw": json.Number("12")},
		},
		{
			name:   "braces and quotes inside a template",
			params: map[string]any{"m": `{{ {"a": {"b": "}}"}}.a.b }}`, "q": `x{{ 'it\'s}}' == "" ? "" : "}}" }}y`},
			want:   map[string]any{"m": "}}", "q": "x}}y"},
		},
		{
			name:   "expr operators and builtins",
			params: map[string]any{"m": "{{ event.payload.count > 2 ? 'many' : 'few' }}", "n": "{{ len(event.payload.tags) }}", "d": "{{ event.payload.nope ?? 'default' }}"},
			want:   map[string]any{"m": "many", "n": 2, "d": "default"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := Render(tt.params, testEnv(templatePayload))
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestRender_DoesNotModifyInput(t *testing.T) {
	t.Parallel()

	params := map[string]any{
		"a":    "{{ event.payload.count }}",
		"list": []any{"{{ event.payload.message }}", map[string]any{"b": "{{ event.payload.ok }}"}},
	}
	before, err := json.Marshal(params)
	require.NoError(t, err)

	_, err = Render(params, testEnv(templatePayload))
	require.NoError(t, err)

	after, err := json.Marshal(params)
	require.NoError(t, err)
	require.JSONEq(t, string(before), string(after))
}

func TestRender_Nil(t *testing.T) {
	t.Parallel()

	got, err := Render(nil, testEnv(nil))
	require.NoError(t, err)
	require.Nil(t, got)
}

func TestRender_Errors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		params      map[string]any
		wantErr     string
		wantInvalid bool
	}{
		{
			name:        "bad syntax names the path, the template and the position",
			params:      map[string]any{"message": "Hello {{ event.payload. }}"},
			wantErr:     `action_params.message: template "{{ event.payload. }}": line 1, column`,
			wantInvalid: true,
		},
		{
			name:        "unknown root",
			params:      map[string]any{"message": "{{ evnt.payload.x }}"},
			wantErr:     `action_params.message: template "{{ evnt.payload.x }}": line 1, column 4: unknown name evnt; known: event, rule, pack, system, trigger`,
			wantInvalid: true,
		},
		{
			name:        "unterminated template",
			params:      map[string]any{"message": "Hello {{ event.payload.x"},
			wantErr:     `action_params.message: template "Hello {{ event.payload.x": column 7: "{{" without a closing "}}"`,
			wantInvalid: true,
		},
		{
			name:        "empty template",
			params:      map[string]any{"m": "{{}}"},
			wantErr:     `action_params.m: template "{{}}": empty expression`,
			wantInvalid: true,
		},
		{
			name:        "path through slices and odd keys",
			params:      map[string]any{"items": []any{"ok", map[string]any{"odd key": "{{ 1 + }}"}}},
			wantErr:     `action_params.items[1]["odd key"]: template "{{ 1 + }}"`,
			wantInvalid: true,
		},
		{
			name:    "a missing key is an error naming the path, not ErrInvalid",
			params:  map[string]any{"m": "{{ event.payload.nope.deeper }}"},
			wantErr: "action_params.m: template \"{{ event.payload.nope.deeper }}\": line 1, column 18: event.payload.nope is missing; write `event.payload.nope ?? fallback` to supply a default",
		},
		{
			name:    "unrenderable value in a mixed string",
			params:  map[string]any{"m": "x {{ 1 }} {{ 0.0 / 0.0 }}"},
			wantErr: `action_params.m: template "{{ 0.0 / 0.0 }}": render float64 as text: json: unsupported value: NaN`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := Render(tt.params, testEnv(templatePayload))
			require.Nil(t, got)
			require.ErrorContains(t, err, tt.wantErr)
			require.Equal(t, tt.wantInvalid, errors.Is(err, attune.ErrInvalid))
		})
	}
}

func TestCheckTemplates(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		params  map[string]any
		wantErr string
	}{
		{name: "nil", params: nil},
		{name: "no templates", params: map[string]any{"a": "x", "b": 1, "c": []any{true}}},
		{name: "good templates, not evaluated", params: map[string]any{"a": "{{ event.payload.nope.deeper }}", "b": []any{map[string]any{"c": "x {{ pack.config.y }}"}}}},
		{name: "first bad one in key order", params: map[string]any{"b": "{{ ) }}", "a": []any{"{{ ( }}"}}, wantErr: `action_params.a[0]: template "{{ ( }}"`},
		{name: "unterminated", params: map[string]any{"a": "{{ x"}, wantErr: `action_params.a: template "{{ x": column 1: "{{" without a closing "}}"`},
		{name: "unknown root", params: map[string]any{"a": "{{ trigr.x }}"}, wantErr: "unknown name trigr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := CheckTemplates(tt.params)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, attune.ErrInvalid)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestScan(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in        string
		wantSrc   []string
		wantWhole bool
	}{
		{in: "{{ a }}", wantSrc: []string{" a "}, wantWhole: true},
		{in: " \t{{a}}\n", wantSrc: []string{"a"}, wantWhole: true},
		{in: "x{{a}}", wantSrc: []string{"a"}},
		{in: "{{a}}{{b}}", wantSrc: []string{"a", "b"}},
		{in: `{{ {"k": {"j": 1}} }}`, wantSrc: []string{` {"k": {"j": 1}} `}, wantWhole: true},
		{in: `{{ "}}" + '}}' + ` + "`}}`" + ` }}`, wantSrc: []string{` "}}" + '}}' + ` + "`}}`" + ` `}, wantWhole: true},
		{in: `{{ "a\"}}" }}`, wantSrc: []string{` "a\"}}" `}, wantWhole: true},
		{in: "{ {a} }", wantSrc: nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()

			segs, whole, err := scan(tt.in)
			require.NoError(t, err)
			var srcs []string
			for _, seg := range segs {
				if seg.template {
					srcs = append(srcs, seg.src)
				}
			}
			require.Equal(t, tt.wantSrc, srcs)
			require.Equal(t, tt.wantWhole, whole)
		})
	}
}

func TestCompile_CachesPrograms(t *testing.T) {
	t.Parallel()

	src := "event.payload.cache_test_unique_key == 1"
	p1, err := compile(src, true)
	require.NoError(t, err)
	p2, err := compile(src, true)
	require.NoError(t, err)
	require.Same(t, p1, p2)
}
