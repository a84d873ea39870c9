package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden/*.json from the output")

// Every --json output uses snake_case keys. Each command's output is compared with
// testdata/golden/<name>.json after normalising what changes from run to run (times, worker
// names, pids); `go test ./cmd/attune -run TestJSONGolden -update` rewrites the files.
func TestJSONGolden(t *testing.T) {
	t.Parallel()
	in, url := externalInstance(t)
	pack := filepath.Join(in.dir, "gold")
	writeFiles(t, pack, map[string]string{
		"pack.yaml":           "ref: gold\nversion: 1.2.3\ndescription: golden test pack\n",
		"triggers/alert.yaml": "ref: alert\ndescription: something happened\n",
		"actions/greet.yaml": `ref: greet
runner_type: noop
description: says hello
timeout: 30
parameters:
  name: {type: string, required: true, description: who}
  loud: {type: boolean, default: false}
`,
		"rules/on_alert.yaml": `ref: on_alert
trigger_ref: alert
criteria:
  payload.who: {type: equals, pattern: ann}
action_ref: greet
action_params: {name: "{{ event.payload.who }}"}
`,
	})
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := in.attune(args...)
		require.Equal(t, 0, code, "%v: %s %s", args, out, errOut)
		return out
	}
	run("migrate")
	run("pack", "register", pack)
	run("run", "gold.greet", "name=x")
	run("event", "emit", "--wait", "gold.alert", "who=ann")
	// For status: a replica gone silent an hour ago, and a job due in a queue no one works.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `INSERT INTO attune.worker (name, roles, hostname, pid, last_seen_at)
		VALUES ('gone', 'workers', 'elsewhere', 42, now() - interval '1 hour')`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `INSERT INTO river_job (kind, queue, state, args, max_attempts, scheduled_at)
		VALUES ('golden', 'golden', 'available', '{}', 1, now() - interval '1 second')`)
	require.NoError(t, err)
	conn.Close(ctx)

	for _, tc := range []struct {
		name  string
		args  []string
		shape bool // compare only the keys: the values depend on timing
	}{
		{"pack_list", []string{"pack", "list", "--json"}, false},
		{"action_list", []string{"action", "list", "--json"}, false},
		{"action_get", []string{"action", "get", "gold.greet", "--json"}, false},
		{"rule_list", []string{"rule", "list", "--json"}, false},
		{"rule_get", []string{"rule", "get", "gold.on_alert", "--json"}, false},
		{"event_list", []string{"event", "list", "--json"}, false},
		{"event_get", []string{"event", "get", "1", "--json"}, false},
		{"execution_list", []string{"execution", "list", "--json"}, false},
		{"execution_get", []string{"execution", "get", "1", "--json"}, false},
		{"status", []string{"status", "--json"}, true},
	} {
		var v any
		out := run(tc.args...)
		require.NoError(t, json.Unmarshal([]byte(out), &v), "%s: %s", tc.name, out)
		v = onlyPack(v, "gold")
		if tc.shape {
			v = shape(v)
		} else {
			v = normalise(v, "")
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		require.NoError(t, enc.Encode(v))
		got := buf.Bytes()
		file := filepath.Join("testdata", "golden", tc.name+".json")
		if *updateGolden {
			require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
			require.NoError(t, os.WriteFile(file, got, 0o644))
			continue
		}
		want, err := os.ReadFile(file)
		require.NoError(t, err, "%s: run with -update to create it", tc.name)
		require.Equal(t, string(want), string(got), "%s (%v)", tc.name, tc.args)
		assertSnakeKeys(t, tc.name, v)
	}
}

// onlyPack keeps, of a list of objects with a ref, those of pack: the core pack's own actions
// are not this test's business.
func onlyPack(v any, pack string) any {
	list, ok := v.([]any)
	if !ok {
		return v
	}
	var out []any
	for _, item := range list {
		m, ok := item.(map[string]any)
		ref, has := m["ref"].(string)
		if !ok || !has || ref == pack || strings.HasPrefix(ref, pack+".") {
			out = append(out, item)
		}
	}
	return out
}

// normalise replaces what differs between runs: times, worker names, hosts and pids.
func normalise(v any, key string) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = normalise(x, k)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalise(x, key)
		}
		return out
	case nil:
		return nil
	}
	switch {
	case strings.HasSuffix(key, "_at") || key == "at" || key == "oldest":
		return "<time>"
	case key == "worker" || key == "hostname" || key == "pid" || key == "duration_ms":
		return "<" + key + ">"
	}
	return v
}

// shape keeps an object's keys and the type of each value, and of a list its first item.
func shape(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = shape(x)
		}
		return out
	case []any:
		if len(v) == 0 {
			return []any{}
		}
		return []any{shape(v[0])}
	case string:
		return "<string>"
	case float64:
		return "<number>"
	case bool:
		return "<bool>"
	}
	return v
}

// assertSnakeKeys checks every key attune chose is snake_case; the user's own keys (payloads,
// parameters, criteria) are skipped.
func assertSnakeKeys(t *testing.T, name string, v any) {
	t.Helper()
	userData := []string{"payload", "parameters", "action_params", "trigger_params", "criteria", "result", "data", "executions"}
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			require.Equal(t, strings.ToLower(k), k, "%s: key %q is not snake_case", name, k)
			if !slices.Contains(userData, k) {
				assertSnakeKeys(t, name, x)
			}
		}
	case []any:
		for _, x := range v {
			assertSnakeKeys(t, name, x)
		}
	}
}
