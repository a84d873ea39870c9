package params_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/params"
)

func ptr(f float64) *float64 { return &f }

// sleepSchema is core.sleep's schema plus one parameter of every other kind.
var sleepSchema = attune.ParamSchema{
	"seconds": {Type: "integer", Required: true, Default: 1.0, Minimum: ptr(0), Maximum: ptr(3600)},
	"message": {Type: "string"},
	"level":   {Type: "string", Enum: []any{"info", "error"}, Default: "info"},
	"ratio":   {Type: "number", Minimum: ptr(0.5)},
	"host":    {Type: "string", Pattern: `^[a-z]+\.example\.com$`},
	"dry_run": {Type: "boolean"},
	"tags":    {Type: "array", Default: []any{"a"}},
	"opts":    {Type: "object"},
	"token":   {Type: "string", Secret: true, Pattern: "^tok_"},
	"anyhow":  {Description: "no type: anything goes"},
}

func TestApply(t *testing.T) {
	t.Parallel()
	defaults := map[string]any{"seconds": 1.0, "level": "info", "tags": []any{"a"}}
	with := func(extra map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range defaults {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name    string
		params  map[string]any
		want    map[string]any
		wantErr []string // every field error, in order
	}{
		{name: "nothing given: defaults", params: nil, want: defaults},
		{name: "given values win over defaults", params: map[string]any{"seconds": 5, "level": "error", "tags": []any{}},
			want: map[string]any{"seconds": 5.0, "level": "error", "tags": []any{}}},
		{name: "null counts as not given", params: map[string]any{"seconds": nil, "message": nil}, want: defaults},
		{name: "every type", params: map[string]any{
			"message": "hi", "ratio": 0.75, "host": "db.example.com", "dry_run": false,
			"opts": map[string]any{"a": 1}, "token": "tok_x", "anyhow": []any{1, "x"},
		}, want: with(map[string]any{
			"message": "hi", "ratio": 0.75, "host": "db.example.com", "dry_run": false,
			"opts": map[string]any{"a": 1.0}, "token": "tok_x", "anyhow": []any{1.0, "x"},
		})},
		{name: "integral float is an integer", params: map[string]any{"seconds": 7.0}, want: with(map[string]any{"seconds": 7.0})},
		{name: "bounds are inclusive", params: map[string]any{"seconds": 3600, "ratio": 0.5}, want: with(map[string]any{"seconds": 3600.0, "ratio": 0.5})},
		{name: "maximum", params: map[string]any{"seconds": 5000}, wantErr: []string{"seconds: must be <= 3600, got 5000"}},
		{name: "minimum", params: map[string]any{"seconds": -1}, wantErr: []string{"seconds: must be >= 0, got -1"}},
		{name: "fractional minimum", params: map[string]any{"ratio": 0.25}, wantErr: []string{"ratio: must be >= 0.5, got 0.25"}},
		{name: "integer gets a fraction", params: map[string]any{"seconds": 1.5}, wantErr: []string{"seconds: must be an integer, got 1.5"}},
		{name: "integer gets a string", params: map[string]any{"seconds": "five"}, wantErr: []string{`seconds: must be an integer, got "five"`}},
		{name: "boolean gets a string", params: map[string]any{"dry_run": "yes"}, wantErr: []string{`dry_run: must be true or false, got "yes"`}},
		{name: "string gets a number", params: map[string]any{"message": 3}, wantErr: []string{"message: must be a string, got 3"}},
		{name: "array gets an object", params: map[string]any{"tags": map[string]any{}}, wantErr: []string{"tags: must be an array, got {}"}},
		{name: "object gets an array", params: map[string]any{"opts": []any{}}, wantErr: []string{"opts: must be an object, got []"}},
		{name: "enum", params: map[string]any{"level": "debug"}, wantErr: []string{`level: must be one of "info", "error", got "debug"`}},
		{name: "pattern is a Go regexp", params: map[string]any{"host": "DB.example.com"}, wantErr: []string{`host: must match the pattern ^[a-z]+\.example\.com$, got "DB.example.com"`}},
		{name: "extra parameters", params: map[string]any{"colour": "red", "size": 1},
			wantErr: []string{
				"colour: unknown parameter (known: anyhow, dry_run, host, level, message, opts, ratio, seconds, tags, token)",
				"size: unknown parameter (known: anyhow, dry_run, host, level, message, opts, ratio, seconds, tags, token)",
			}},
		{name: "a secret's value is never quoted", params: map[string]any{"token": "hunter2"},
			wantErr: []string{"token: must match the pattern ^tok_, got a string (secret, not shown)"}},
		{name: "a secret's type error", params: map[string]any{"token": 4242},
			wantErr: []string{"token: must be a string, got an integer (secret, not shown)"}},
		{name: "every error at once, sorted", params: map[string]any{"seconds": 5000, "level": "x", "zzz": 1, "dry_run": 1},
			wantErr: []string{
				"dry_run: must be true or false, got 1",
				`level: must be one of "info", "error", got "x"`,
				"seconds: must be <= 3600, got 5000",
				"zzz: unknown parameter (known: anyhow, dry_run, host, level, message, opts, ratio, seconds, tags, token)",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := params.Apply(sleepSchema, tt.params)
			if tt.wantErr == nil {
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
				return
			}
			require.Nil(t, got)
			var fe params.FieldErrors
			require.ErrorAs(t, err, &fe)
			require.ErrorIs(t, err, attune.ErrInvalid)
			msgs := make([]string, len(fe))
			for i, e := range fe {
				msgs[i] = e.Error()
			}
			require.Equal(t, tt.wantErr, msgs)
			require.NotContains(t, err.Error(), "hunter2")
			require.NotContains(t, err.Error(), "4242")
		})
	}
}

func TestApplyRequired(t *testing.T) {
	t.Parallel()
	s := attune.ParamSchema{
		"message": {Type: "string", Required: true},
		"count":   {Type: "integer", Required: true},
		"opt":     {Type: "string"},
	}
	_, err := params.Apply(s, map[string]any{"opt": "x", "count": nil})
	require.EqualError(t, err, "count: required; message: required")

	_, err = params.Apply(attune.ParamSchema{}, map[string]any{"x": 1})
	require.EqualError(t, err, "x: unknown parameter (the action takes no parameters)")

	got, err := params.Apply(nil, nil)
	require.NoError(t, err)
	require.Equal(t, map[string]any{}, got)
}

func TestApplyDoesNotShareDefaultsOrInput(t *testing.T) {
	t.Parallel()
	def := map[string]any{"k": "v"}
	s := attune.ParamSchema{"opts": {Type: "object", Default: def}, "list": {Type: "array"}}
	in := map[string]any{"list": []any{"a"}}
	out, err := params.Apply(s, in)
	require.NoError(t, err)
	out["opts"].(map[string]any)["k"] = "changed"
	out["list"].([]any)[0] = "changed"
	require.Equal(t, "v", def["k"], "the schema's default is copied")
	require.Equal(t, "a", in["list"].([]any)[0], "the input is copied")
}

func TestApplyBadSchema(t *testing.T) {
	t.Parallel()
	_, err := params.Apply(attune.ParamSchema{"x": {Type: "string", Pattern: "("}}, nil)
	require.ErrorIs(t, err, attune.ErrInvalid)
	require.ErrorContains(t, err, "does not compile")
	var fe params.FieldErrors
	require.False(t, errors.As(err, &fe))
}

// The compiled schema is cached and safe to share between goroutines.
func TestApplyConcurrent(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := params.Apply(sleepSchema, map[string]any{"seconds": i * 1000})
			if i*1000 > 3600 {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
		}()
	}
	wg.Wait()
}

func TestJSONSchema(t *testing.T) {
	t.Parallel()
	got := params.JSONSchema(attune.ParamSchema{
		"b": {Type: "integer", Required: true, Minimum: ptr(1), Default: 2.0, Description: "B"},
		"a": {Type: "string", Required: true, Enum: []any{"x"}, Pattern: "^x$", Secret: true},
	})
	require.Equal(t, map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"a", "b"},
		"properties": map[string]any{
			"a": map[string]any{"type": "string", "enum": []any{"x"}, "pattern": "^x$"},
			"b": map[string]any{"type": "integer", "minimum": 1.0, "default": 2.0, "description": "B"},
		},
	}, got)
}

func TestCheckLiteral(t *testing.T) {
	t.Parallel()
	s := attune.ParamSchema{
		"seconds": {Type: "integer", Required: true, Maximum: ptr(10)},
		"message": {Type: "string", Required: true},
		"tags":    {Type: "array"},
	}
	tests := []struct {
		name   string
		params map[string]any
		want   string // "" for no error
	}{
		{name: "all literal and valid", params: map[string]any{"seconds": 3, "message": "m"}},
		{name: "templates stand in for required values", params: map[string]any{"seconds": "{{ event.payload.n }}", "message": "at {{ system.now }}"}},
		{name: "a template nested in a list counts", params: map[string]any{"seconds": 1, "message": "m", "tags": []any{"{{ x }}"}}},
		{name: "literal out of range", params: map[string]any{"seconds": 30, "message": "{{ m }}"}, want: "seconds: must be <= 10, got 30"},
		{name: "literal of the wrong type", params: map[string]any{"seconds": "3", "message": "m"}, want: `seconds: must be an integer, got "3"`},
		{name: "missing required", params: map[string]any{"message": "{{ m }}"}, want: "seconds: required"},
		{name: "unknown, templated or not", params: map[string]any{"seconds": 1, "message": "m", "colour": "{{ c }}", "size": 2},
			want: "colour: unknown parameter (known: message, seconds, tags); size: unknown parameter (known: message, seconds, tags)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := params.CheckLiteral(s, tt.params)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.want)
			require.ErrorIs(t, err, attune.ErrInvalid)
		})
	}
}
