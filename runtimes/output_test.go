package runtimes

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

func TestParseOutput(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, format, stdout string
		want                 any
		wantErr              string
	}{
		{"TextIsNotParsed", attune.OutputText, `{"a":1}`, nil, ""},
		{"EmptyFormatIsText", "", `{"a":1}`, nil, ""},
		{"JSONWhole", attune.OutputJSON, "{\"a\": [1, 2]}\n", map[string]any{"a": []any{1.0, 2.0}}, ""},
		{"JSONLastLine", attune.OutputJSON, "starting\n{\"ok\":true}\n", map[string]any{"ok": true}, ""},
		{"YAMLMapping", attune.OutputYAML, "name: ada\ncount: 3\nratio: 0.5\nok: yes\nwhen: 2024-01-02\nlist: [a, 1]\n",
			map[string]any{"name": "ada", "count": 3.0, "ratio": 0.5, "ok": "yes", "when": "2024-01-02T00:00:00Z", "list": []any{"a", 1.0}}, ""},
		{"YAMLBlockText", attune.OutputYAML, "text: |\n  line 1\n  line 2\n", map[string]any{"text": "line 1\nline 2\n"}, ""},
		{"YAMLNonStringKeys", attune.OutputYAML, "1: one\ntrue: yes\n", map[string]any{"1": "one", "true": "yes"}, ""},
		{"YAMLScalar", attune.OutputYAML, "just text\n", "just text", ""},
		{"YAMLJSONIsYAML", attune.OutputYAML, `{"a": [1, null]}`, map[string]any{"a": []any{1.0, nil}}, ""},
		{"YAMLEmpty", attune.OutputYAML, " \n", nil, "output_format yaml: stdout is not YAML: stdout is empty"},
		{"YAMLSyntaxError", attune.OutputYAML, "a: [1, 2\n", nil, "output_format yaml: stdout is not YAML: yaml: line 1: did not find expected ',' or ']'"},
		{"YAMLTwoDocuments", attune.OutputYAML, "a: 1\n---\nb: 2\n", nil, "output_format yaml: stdout holds more than one YAML document; print one"},
		{"YAMLInfinity", attune.OutputYAML, "x: .inf\n", nil, "output_format yaml: stdout has a value JSON cannot hold: json: unsupported value: +Inf"},
		{"JSONLParseableLines", attune.OutputJSONL, "{\"n\":1}\nprogress: 50%\n\n  [2, 3]  \n\"s\"\n{broken\n7\n",
			[]any{map[string]any{"n": 1.0}, []any{2.0, 3.0}, "s", 7.0}, ""},
		{"JSONLNothingParseable", attune.OutputJSONL, "hello\nworld\n", []any{}, ""},
		{"JSONLEmpty", attune.OutputJSONL, "", []any{}, ""},
		{"JSONLTrailingGarbageOnALine", attune.OutputJSONL, "{\"a\":1} extra\n{\"b\":2}\n", []any{map[string]any{"b": 2.0}}, ""},
		{"JSONLCRLF", attune.OutputJSONL, "{\"a\":1}\r\n{\"b\":2}\r\n", []any{map[string]any{"a": 1.0}, map[string]any{"b": 2.0}}, ""},
		{"UnknownFormat", "xml", "<a/>", nil, "output_format \"xml\" is not supported; use one of text, json, yaml, jsonl"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseOutput(tt.format, tt.stdout, lastNonEmptyLine([]byte(tt.stdout), true))
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// Each output format, through a real process: the parsed data lands in Result.Data and stdout
// is kept; a yaml action that prints no YAML fails.
func TestRunOutputFormats(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		format, script string
		status         attune.ExecutionStatus
		data           any
		err            string
	}{
		{attune.OutputYAML, "printf 'host: db1\\nup: true\\n'", attune.StatusCompleted, map[string]any{"host": "db1", "up": true}, ""},
		{attune.OutputJSONL, "echo '{\"step\":1}'; echo working >&2; echo not json; echo '{\"step\":2}'", attune.StatusCompleted,
			[]any{map[string]any{"step": 1.0}, map[string]any{"step": 2.0}}, ""},
		{attune.OutputYAML, "true", attune.StatusFailed, nil, "output_format yaml: stdout is not YAML: stdout is empty"},
	} {
		t.Run(tt.format, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			req := b.request(tt.script)
			req.Action.OutputFormat = tt.format

			res := b.run(t, context.Background(), req)

			require.Equal(t, tt.status, res.Status, res.Stderr)
			require.Equal(t, tt.data, res.Data)
			require.Equal(t, tt.err, res.Error)
		})
	}
}
