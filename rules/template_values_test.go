package rules

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// A whole template keeps the JSON type of its value; a mixed string interpolates it. Values that
// are not JSON (times, durations, the []string split returns) become what JSON would hold.
func TestRender_TypePreservation(t *testing.T) {
	t.Parallel()

	tests := []struct {
		template  string
		wantWhole any
		wantMixed string // rendered inside "<…>"
	}{
		{template: "{{ event.payload.message }}", wantWhole: "disk full", wantMixed: "<disk full>"},
		{template: "{{ event.payload.count }}", wantWhole: float64(3), wantMixed: "<3>"},
		{template: "{{ event.payload.ratio }}", wantWhole: 0.25, wantMixed: "<0.25>"},
		{template: "{{ event.payload.ok }}", wantWhole: false, wantMixed: "<false>"},
		{template: "{{ event.payload.nothing }}", wantWhole: nil, wantMixed: "<>"},
		{template: "{{ event.payload.tags }}", wantWhole: []any{"a", "b"}, wantMixed: `<["a","b"]>`},
		{template: "{{ event.payload.host }}", wantWhole: templatePayload["host"], wantMixed: `<{"name":"web-01","tags":["prod","eu"]}>`},
		{template: "{{ event.id }}", wantWhole: int64(42), wantMixed: "<42>"},
		{template: "{{ event.payload.count * 2 }}", wantWhole: float64(6), wantMixed: "<6>"},
		{template: "{{ len(event.payload.tags) }}", wantWhole: 2, wantMixed: "<2>"},
		{template: "{{ event.payload.count > 2 }}", wantWhole: true, wantMixed: "<true>"},
		{template: "{{ split('a,b', ',') }}", wantWhole: []any{"a", "b"}, wantMixed: `<["a","b"]>`},
		{template: "{{ {'n': event.payload.count, 'when': system.now} }}", wantWhole: map[string]any{"n": float64(3), "when": "2026-03-01T09:00:05Z"}, wantMixed: `<{"n":3,"when":"2026-03-01T09:00:05Z"}>`},
		{template: "{{ system.now }}", wantWhole: "2026-03-01T09:00:05Z", wantMixed: "<2026-03-01T09:00:05Z>"},
		{template: "{{ duration('90s') }}", wantWhole: "1m30s", wantMixed: "<1m30s>"},
		{template: "{{ '007' }}", wantWhole: "007", wantMixed: "<007>"},
	}
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			t.Parallel()

			got, err := Render(map[string]any{"whole": tt.template, "mixed": "<" + tt.template + ">"}, testEnv(templatePayload))
			require.NoError(t, err)
			require.Equal(t, tt.wantWhole, got["whole"])
			require.Equal(t, tt.wantMixed, got["mixed"])
		})
	}
}

// The helpers are expr-lang/expr's builtins, not attune's.
func TestRender_ExprBuiltins(t *testing.T) {
	t.Parallel()

	env := testEnv(map[string]any{"csv": " a,b ,c ", "at": "2026-03-01T08:59:00Z", "user": map[string]any{"email": "Ada@Example.com"}})
	tests := map[string]any{
		"{{ upper(event.payload.user.email) }}":                           "ADA@EXAMPLE.COM",
		"{{ lower(event.payload.user.email) }}":                           "ada@example.com",
		"{{ trim(event.payload.csv) }}":                                   "a,b ,c",
		"{{ split(trim(event.payload.csv), ',')[1] }}":                    "b ",
		"{{ join(['x', 'y'], '+') }}":                                     "x+y",
		"{{ len(event.payload.csv) }}":                                    8,
		"{{ now().Year() >= 2026 }}":                                      true,
		"{{ date(event.payload.at).Minute() }}":                           59,
		"{{ (system.now - date(event.payload.at)).Seconds() }}":           float64(65),
		"{{ toJSON({'a': 1}) }}":                                          "{\n  \"a\": 1\n}",
		"{{ fromJSON('[1]')[0] }}":                                        float64(1),
		"{{ filter([1, 2, 3], # > 1) }}":                                  []any{2, 3},
		"{{ map(event.payload.csv | split(','), trim(#)) }}":              []any{"a", "b", "c"},
		"{{ event.payload.user.email | lower() | replace('@', ' at ') }}": "ada at example.com",
		"{{ trigger.user.email == event.payload.user.email }}":            true,
		"{{ rule.ref }} {{ system.rule.id }}":                             "ops.notify 7",
	}
	for tmpl, want := range tests {
		t.Run(tmpl, func(t *testing.T) {
			t.Parallel()

			got, err := Render(map[string]any{"v": tmpl}, env)
			require.NoError(t, err)
			require.Equal(t, want, got["v"])
		})
	}
}

// A missing value is an error naming the parameter, the template and the path, never null and
// never the template text, unless the template supplies a default with ?? or reads on with ?.
func TestRender_MissingValues(t *testing.T) {
	t.Parallel()

	tests := []struct {
		template string
		want     any    // when the template renders
		wantErr  string // otherwise
	}{
		{template: "{{ event.payload.user_email }}", wantErr: "event.payload.user_email is missing; write `event.payload.user_email ?? fallback` to supply a default"},
		{template: "Hello {{ event.payload.user_email }}!", wantErr: "event.payload.user_email is missing"},
		{template: "{{ event.payload.host.ip }}", wantErr: "event.payload.host.ip is missing"},
		{template: "{{ event.payload.user.email }}", wantErr: "event.payload.user is missing"},
		{template: "{{ event.payload.nothing.x }}", wantErr: "event.payload.nothing.x is missing: what it is read from is null"},
		{template: "{{ event.payload.tags[2] }}", wantErr: "event.payload.tags[2] is missing"},
		{template: "{{ event.payload['odd key'] }}", wantErr: `event.payload["odd key"] is missing`},
		{template: "{{ pack.config.webhook }}", wantErr: "pack.config.webhook is missing"},
		{template: "{{ upper(event.payload.nope) }}", wantErr: "event.payload.nope is missing"},
		{template: "{{ event.payload.host.name }}", want: "web-01"},
		{template: "{{ event.payload.user_email ?? 'nobody@example.com' }}", want: "nobody@example.com"},
		{template: "{{ event.payload.user.email ?? pack.config.channel }}", want: "#ops"},
		{template: "{{ event.payload.nothing ?? 'was null' }}", want: "was null"},
		{template: "{{ event.payload.tags[2] ?? 'c' }}", want: "c"},
		{template: "{{ event.payload.user?.email }}", want: nil},
		{template: "{{ (event.payload.nope ?? {}).x ?? 1 }}", want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			t.Parallel()

			got, err := Render(map[string]any{"to": tt.template}, testEnv(templatePayload))
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.Equal(t, tt.want, got["to"])
				return
			}
			require.Nil(t, got)
			require.ErrorContains(t, err, "action_params.to: template ")
			require.ErrorContains(t, err, tt.wantErr)
			require.False(t, errors.Is(err, attune.ErrInvalid), "a missing value is the event's doing, not the rule's")
		})
	}
}
