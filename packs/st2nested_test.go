package packs

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// writeDir writes files under a new directory and returns it.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o700))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
	}
	return dir
}

// Exchange packs as they are written load: StackStorm's pre-1.0 runner names, nested schemas
// (items, properties, additionalProperties) in parameters and in config.schema.yaml, where a
// key holding a nested secret is sealed whole; sensors/ and aliases/ are named as not loaded.
func TestStackStormExchangeShapes(t *testing.T) {
	t.Parallel()
	dir := writeDir(t, map[string]string{
		"pack.yaml": "ref: mail\nname: mail\nversion: 1.0.0\n",
		"config.schema.yaml": "accounts:\n  type: array\n  required: true\n  items:\n    type: object\n    required: true\n    properties:\n" +
			"      name: {type: string, required: true}\n      password: {type: string, secret: true, required: true}\n" +
			"tags:\n  type: object\n  additionalProperties: {type: string}\n",
		"actions/send.yaml": "---\n  name: send\n  runner_type: run-python\n  entry_point: send.py\n  parameters:\n" +
			"    to:\n      type: array\n      items: {type: string}\n" +
			"    opts:\n      type: object\n      properties:\n        cc: {type: boolean}\n",
		"actions/send.py":      "from st2common.runners.base_action import Action\n",
		"actions/probe.yaml":   "name: probe\nrunner_type: run-local\nparameters:\n  cmd: {default: uptime, immutable: true}\n",
		"actions/remote.yaml":  "name: remote\nrunner_type: run-remote\nparameters:\n  cmd: {type: string}\n",
		"sensors/imap.py":      "# a sensor\n",
		"sensors/imap.yaml":    "class_name: Imap\n",
		"aliases/send.yaml":    "name: send\n",
		"actions/lib/.keep.py": "",
		"actions/tags.yaml":    "name: tags\nrunner_type: noop\nparameters:\n  t: {type: string, items: {type: string}}\n",
	})
	_, _, err := ValidateDir(context.Background(), dir, time.Now())
	var lines []string
	for _, p := range err.(Errors) {
		lines = append(lines, p.Error()[len(dir)+1:])
	}
	require.Equal(t, []string{
		`actions/remote.yaml:2:1: runner_type run-remote is not supported yet: it runs commands over SSH, and attune has no remote runner yet; run a worker on that host and use local-shell-cmd`,
		`actions/tags.yaml:4:21: parameter "t": items applies only to array parameters`,
	}, lines)

	require.NoError(t, os.Remove(filepath.Join(dir, "actions/remote.yaml")))
	require.NoError(t, os.Remove(filepath.Join(dir, "actions/tags.yaml")))
	p, warns, err := ValidateDir(context.Background(), dir, time.Now())
	require.NoError(t, err)
	require.True(t, p.ConfigSchema["accounts"].Secret)
	require.False(t, p.ConfigSchema["tags"].Secret)
	byRef := map[string]string{}
	for _, a := range p.Actions {
		byRef[a.Ref] = a.Runtime
	}
	require.Equal(t, map[string]string{"mail.send": "python-script", "mail.probe": "local-shell-cmd"}, byRef)
	var msgs []string
	for _, w := range warns {
		msgs = append(msgs, w.Error()[len(dir)+1:])
	}
	require.Contains(t, msgs, `config.schema.yaml:4:3: config key "accounts" holds a secret (items.properties.password): attune seals the whole value of "accounts" under secrets.key and shows it as ********; the pack's python-script actions see it whole in self.config`)
	require.Contains(t, msgs, `sensors: not loaded: attune runs no pack sensors: its triggers come from timers, webhooks, attune event emit and core.inject_trigger; run the sensor's logic as a timer rule's action that emits events`)
	require.Contains(t, msgs, `aliases: not loaded: ChatOps action aliases are not read by attune`)
}
