package runtimes

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

func TestResultJSON(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		res  Result
		want string
	}{
		{"CompletedText", Result{Status: attune.StatusCompleted, Stdout: "hi\n", Duration: 5 * time.Millisecond},
			`{"exit_code":0,"duration_ms":5,"succeeded":true,"stdout":"hi\n"}`},
		{"CompletedEmptyStdoutIsKept", Result{Status: attune.StatusCompleted},
			`{"exit_code":0,"duration_ms":0,"succeeded":true,"stdout":""}`},
		{"CompletedJSONKeepsStdout", Result{
			Status: attune.StatusCompleted, Stdout: `{"a":1}` + "\n", Stderr: "note\n",
			Data: map[string]any{"a": 1.0}, Duration: 1500 * time.Microsecond,
		}, `{"exit_code":0,"duration_ms":1,"succeeded":true,"stdout":"{\"a\":1}\n","stderr":"note\n","data":{"a":1}}`},
		{"Failed", Result{Status: attune.StatusFailed, ExitCode: 3, Stderr: "disk full\n", Error: "disk full", Duration: 2 * time.Second},
			`{"exit_code":3,"duration_ms":2000,"succeeded":false,"stdout":"","stderr":"disk full\n","error":"disk full"}`},
		{"Truncated", Result{
			Status: attune.StatusTimeout, ExitCode: -1, Stdout: "a", Stderr: "b",
			StdoutTruncated: true, StderrTruncated: true, Error: "timed out after 1s",
		}, `{"exit_code":-1,"duration_ms":0,"succeeded":false,"stdout":"a","stderr":"b","error":"timed out after 1s","stdout_truncated":true,"stderr_truncated":true}`},
		{"NoHTMLEscaping", Result{Status: attune.StatusCompleted, Stdout: "<a&b>"},
			`{"exit_code":0,"duration_ms":0,"succeeded":true,"stdout":"<a&b>"}`},
		{"UnencodableData", Result{Status: attune.StatusCompleted, Data: map[string]any{"f": func() {}}},
			`{"exit_code":0,"duration_ms":0,"succeeded":true,"stdout":"","error":"result data is not JSON: json: unsupported type: func()"}`},
		{"UnencodableDataWithError", Result{Status: attune.StatusFailed, Error: "boom", Data: []any{func() {}}},
			`{"exit_code":0,"duration_ms":0,"succeeded":false,"stdout":"","error":"boom; result data is not JSON: json: unsupported type: func()"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.res.JSON()
			require.Equal(t, tt.want, string(got))
			require.True(t, json.Valid(got))
		})
	}
}

func TestParseJSONOutput(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		stdout   string
		lastLine string
		want     any
		wantErr  string
	}{
		{"Object", `{"a":1}`, `{"a":1}`, map[string]any{"a": 1.0}, ""},
		{"PrettyObject", "{\n  \"a\": [1, 2]\n}\n", "}", map[string]any{"a": []any{1.0, 2.0}}, ""},
		{"Scalar", "42\n", "42", 42.0, ""},
		{"LastLine", "log\nmore log\n[true]\n\n", "[true]", []any{true}, ""},
		{"LastLineFromTruncatedStream", "log…\n…[truncated 9 bytes]", `{"x":"y"}`, map[string]any{"x": "y"}, ""},
		{"NotJSON", "hello\nworld\n", "world", nil,
			"output_format json: stdout is not JSON: invalid character 'h' looking for beginning of value"},
		{"TwoDocuments", "{}\n{}x\n", "{}x", nil,
			"output_format json: stdout is not JSON: invalid character '{' after top-level value"},
		{"Empty", " \n", "", nil, "output_format json: stdout is not JSON: stdout is empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseJSONOutput(tt.stdout, tt.lastLine)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestOneLine(t *testing.T) {
	t.Parallel()
	require.Equal(t, "first", oneLine("  first  \nsecond"))
	long := oneLine(strings.Repeat("é", maxErrorLen))
	require.LessOrEqual(t, len(long), maxErrorLen+len("…"))
	require.True(t, strings.HasSuffix(long, "é…"), long)
}
