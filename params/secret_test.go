package params_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/params"
)

var secretSchema = attune.ParamSchema{
	"user":     {Type: "string"},
	"password": {Type: "string", Secret: true},
	"pin":      {Type: "integer", Secret: true},
	"creds":    {Type: "object", Secret: true},
}

func TestSecretsAndRedact(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"creds", "password", "pin"}, params.Secrets(secretSchema))
	require.Nil(t, params.Secrets(attune.ParamSchema{"a": {}}))

	in := map[string]any{"user": "bob", "password": "hunter2", "pin": 1234.0}
	require.Equal(t, map[string]any{"user": "bob", "password": "********", "pin": "********"}, params.Redact(in, secretSchema))
	require.Equal(t, "hunter2", in["password"], "the input is not modified")
	require.Nil(t, params.Redact(nil, secretSchema))

	require.Equal(t, map[string]any{"password": "hunter2", "pin": 1234.0}, params.SecretValues(in, secretSchema))
	require.Nil(t, params.SecretValues(map[string]any{"user": "bob"}, secretSchema))
}

func TestScrubber(t *testing.T) {
	t.Parallel()
	sc := params.NewScrubber(map[string]any{
		"password": `hun"ter2`,
		"short":    "hun",
		"pin":      1234.0,
		"creds":    map[string]any{"key": "AKIAXYZ", "n": []any{"deep-secret"}},
		"flag":     true,
		"empty":    "",
	})
	require.False(t, sc.Empty())
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"raw", `pw=hun"ter2.`, "pw=********."},
		{"inside JSON text, escaped", `{"pw":"hun\"ter2"}`, `{"pw":"********"}`},
		{"a secret inside another is replaced whole, longest first", `hun"ter2 and hun`, "******** and ********"},
		{"number as text", "pin 1234!", "pin ********!"},
		{"strings inside an object secret", "key AKIAXYZ, deep-secret", "key ********, ********"},
		{"the object secret as JSON text, whole", `{"key":"AKIAXYZ","n":["deep-secret"]}`, "********"},
		{"booleans are not scrubbed", "true", "true"},
		{"nothing to do", "plain", "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, sc.String(tt.in))
		})
	}
	data := map[string]any{
		"password": `hun"ter2`, "pin": 1234.0, "other": 1235.0, "ok": true,
		"list": []any{"x AKIAXYZ", map[string]any{"hun": 1.0}},
	}
	require.Equal(t, map[string]any{
		"password": "********", "pin": "********", "other": 1235.0, "ok": true,
		"list": []any{"x ********", map[string]any{"********": 1.0}},
	}, sc.Value(data))
	require.Equal(t, `hun"ter2`, data["password"], "the input is not modified")

	none := params.NewScrubber(nil)
	require.True(t, none.Empty())
	require.Equal(t, "a", none.String("a"))
}
