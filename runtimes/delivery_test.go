package runtimes

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/attune-run/attune"
)

// fileProbe is an action that records what file delivery gave it: the file's path, mode and
// content, what was on stdin, and the delivery variables.
const fileProbe = `cd "$ATTUNE_TEST_DIR"
printf '%s' "$ATTUNE_PARAMETER_FILE" > path
stat -c %a "$ATTUNE_PARAMETER_FILE" > mode
cat "$ATTUNE_PARAMETER_FILE" > content
cat > stdin
printf '%s %s' "$ATTUNE_PARAMETER_DELIVERY" "$ATTUNE_PARAMETER_FORMAT" > vars
`

// readProbe returns the file the probe wrote under name.
func (b *testBundle) readProbe(t *testing.T, name string) string {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(b.dir, name))
	require.NoError(t, err, name)
	return string(got)
}

// File delivery, in each format: a 0400 file named in ATTUNE_PARAMETER_FILE holds the
// document, stdin is empty, and the file is gone once the run is over.
func TestRunDeliversParametersInFile(t *testing.T) {
	t.Parallel()
	params := map[string]any{"message": "it's\nmulti-line", "count": 3, "tags": []any{"a"}}
	for _, tt := range []struct {
		format, ext string
		decode      func([]byte, any) error
	}{
		{"", ".json", json.Unmarshal},
		{ParamFormatJSON, ".json", json.Unmarshal},
		{ParamFormatYAML, ".yaml", yaml.Unmarshal},
		{ParamFormatDotenv, ".env", nil},
	} {
		t.Run("Format="+tt.format, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			req := b.request(fileProbe)
			req.ParameterDelivery = attune.DeliveryFile
			req.ParameterFormat = tt.format
			req.Parameters = params

			res := b.run(t, context.Background(), req)

			require.Equal(t, attune.StatusCompleted, res.Status, res.Stderr)
			path := b.readProbe(t, "path")
			require.Equal(t, filepath.Join(b.cfg.WorkDir, "params"), filepath.Dir(path))
			require.True(t, strings.HasPrefix(filepath.Base(path), "exec-42-"), path)
			require.Equal(t, tt.ext, filepath.Ext(path))
			require.Equal(t, "400\n", b.readProbe(t, "mode"), "the file is readable by the worker's user only")
			require.Empty(t, b.readProbe(t, "stdin"), "stdin is empty")
			format := tt.format
			if format == "" {
				format = ParamFormatJSON
			}
			require.Equal(t, "file "+format, b.readProbe(t, "vars"))
			require.NoFileExists(t, path, "the file is removed when the run ends")

			want, err := encodeParams(tt.format, params)
			require.NoError(t, err)
			require.Equal(t, string(want), b.readProbe(t, "content"))
			if tt.decode != nil {
				var got map[string]any
				require.NoError(t, tt.decode([]byte(b.readProbe(t, "content")), &got))
				require.Equal(t, "it's\nmulti-line", got["message"])
			}
		})
	}
}

// A dotenv file is loaded as the stdin document is: `. "$ATTUNE_PARAMETER_FILE"` (or eval of
// its content) gives every value back exactly, newlines and quotes included.
func TestRunDotenvFileSourcesInSh(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := b.request(`. "$ATTUNE_PARAMETER_FILE"; printf '%s|%s' "$message" "$count"`)
	req.ParameterDelivery = attune.DeliveryFile
	req.ParameterFormat = ParamFormatDotenv
	req.Parameters = map[string]any{"message": "it's $HOME\n`id`", "count": 2}

	res := b.run(t, context.Background(), req)

	require.Equal(t, attune.StatusCompleted, res.Status, res.Stderr)
	require.Equal(t, "it's $HOME\n`id`|2", res.Stdout)
}

// Stdin delivery (the default) says so in the environment and names no file.
func TestRunStdinDeliveryEnvironment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := b.request(`printf '%s %s [%s]' "$ATTUNE_PARAMETER_DELIVERY" "$ATTUNE_PARAMETER_FORMAT" "${ATTUNE_PARAMETER_FILE-unset}"`)
	req.ParameterFormat = ParamFormatYAML

	res := b.run(t, context.Background(), req)

	require.Equal(t, attune.StatusCompleted, res.Status, res.Stderr)
	require.Equal(t, "stdin yaml [unset]", res.Stdout)
}

// The file is removed however the run ends: here the action times out.
func TestRunParameterFileRemovedAfterTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := b.request(`printf '%s' "$ATTUNE_PARAMETER_FILE" > "$ATTUNE_TEST_DIR/path"; sleep 30`)
	req.ParameterDelivery = attune.DeliveryFile
	req.Timeout = 500 * time.Millisecond

	res := b.run(t, context.Background(), req)

	require.Equal(t, attune.StatusTimeout, res.Status)
	require.NoFileExists(t, b.readProbe(t, "path"))
	entries, err := os.ReadDir(filepath.Join(b.cfg.WorkDir, "params"))
	require.NoError(t, err)
	require.Empty(t, entries)
}

// Requests that cannot be delivered fail before the process starts, without an error for the
// worker.
func TestRunDeliveryRefused(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		delivery string
		schema   attune.ParamSchema
		params   map[string]any
		want     string
	}{
		{"UnknownDelivery", "env", nil, nil,
			`parameter delivery "env" is not supported; use "stdin" or "file"`},
		{"SecretInFile", attune.DeliveryFile,
			attune.ParamSchema{"token": {Type: "string", Secret: true}, "user": {Type: "string"}},
			map[string]any{"token": "s3cr3t", "user": "ada"},
			`parameter "token" is secret, and secrets are delivered on stdin only; set parameter_delivery: stdin on action test.action`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			req := b.request(`touch "$ATTUNE_TEST_DIR/ran"`)
			req.ParameterDelivery = tt.delivery
			req.Action.Parameters = tt.schema
			req.Parameters = tt.params

			res, err := b.set.Run(context.Background(), req)

			require.NoError(t, err)
			require.Equal(t, attune.StatusFailed, res.Status)
			require.Equal(t, -1, res.ExitCode)
			require.Equal(t, tt.want, res.Error)
			require.NoFileExists(t, filepath.Join(b.dir, "ran"))
			require.NotContains(t, res.Error, "s3cr3t")
		})
	}
}

// A secret parameter the run was not given does not stop file delivery.
func TestRunFileDeliveryWithUnsetSecret(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := b.request(`cat "$ATTUNE_PARAMETER_FILE"`)
	req.ParameterDelivery = attune.DeliveryFile
	req.Action.Parameters = attune.ParamSchema{"token": {Type: "string", Secret: true}, "user": {Type: "string"}}
	req.Parameters = map[string]any{"user": "ada"}

	res := b.run(t, context.Background(), req)

	require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
	require.Equal(t, `{"user":"ada"}`+"\n", res.Stdout)
}
