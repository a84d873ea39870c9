package main_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A payload or parameters nested deeper than 64 levels are refused where they enter, with exit
// code 2 and an error naming them, and nothing is stored: a 10,000-deep event used to be
// accepted, and then broke `event list --json` and `event get --json`.
func TestE2EDeepNestingRefused(t *testing.T) {
	in := newInstance(t)
	deep := strings.Repeat(`{"a":`, 10_000) + "1" + strings.Repeat("}", 10_000)

	pack := filepath.Join(in.dir, "lim")
	for name, content := range map[string]string{
		"pack.yaml":           "ref: lim\nversion: 1.0.0\n",
		"triggers/alert.yaml": "ref: alert\n",
		"actions/show.yaml":   "ref: show\nrunner_type: noop\nparameters:\n  data: {type: object}\n",
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(pack, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(pack, name), []byte(content), 0o644))
	}
	out, errOut, code := in.attune("pack", "register", pack)
	require.Equal(t, 0, code, "%s %s", out, errOut)
	_, errOut, code = in.attune("event", "emit", "lim.alert", "--payload", deep)
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "payload: nested more than 64 levels deep (at payload.a.a.a")
	_, errOut, code = in.attune("event", "emit", "lim.alert", "data:="+deep)
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "payload: nested more than 64 levels deep (at payload.data.a.a")
	_, errOut, code = in.attune("run", "lim.show", "data:="+deep)
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "parameters: nested more than 64 levels deep (at parameters.data.a.a")

	out, errOut, code = in.attune("event", "list", "--json")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "[]", strings.TrimSpace(out), "nothing was stored")
}

// An event whose processing attempt died with its replica (River's rescuer recorded it) is not
// evaluated again by the next replica: `attune event get` says it failed, and why.
func TestE2EEventWhoseAttemptDiedIsReportedFailed(t *testing.T) {
	in := newInstance(t)
	pack := filepath.Join(in.dir, "lim")
	writeFiles(t, pack, map[string]string{
		"pack.yaml":           "ref: lim\nversion: 1.0.0\n",
		"triggers/alert.yaml": "ref: alert\n",
		"actions/show.yaml":   "ref: show\nrunner_type: noop\n",
		"rules/any.yaml":      "ref: any\ntrigger_ref: alert\naction_ref: show\n",
	})
	out, errOut, code := in.attune("pack", "register", pack)
	require.Equal(t, 0, code, "%s %s", out, errOut)
	stop, logs := in.start()
	conn := connect(t, in.dbURL())
	ctx := context.Background()

	// What a replica that died while processing the event leaves behind, once River's rescuer
	// has made its job available again.
	var id int64
	require.NoError(t, conn.QueryRow(ctx, `INSERT INTO attune.event (trigger_ref, payload) VALUES ('lim.alert', '{}') RETURNING id`).Scan(&id))
	_, err := conn.Exec(ctx, `INSERT INTO river_job (args, kind, queue, state, attempt, attempted_at, max_attempts, errors, priority, scheduled_at)
		VALUES (jsonb_build_object('event_id', $1::bigint), 'attune.event.process', 'attune_events', 'available', 1, now() - interval '1 hour', 3,
		ARRAY[jsonb_build_object('at', now(), 'attempt', 1, 'error', 'Stuck job rescued by JobRescuer', 'trace', '')], 1, now())`, id)
	require.NoError(t, err)

	var report map[string]any
	require.Eventually(t, func() bool {
		out, _, code := in.attune("event", "get", "--json", strconv.FormatInt(id, 10))
		return code == 0 && json.Unmarshal([]byte(out), &report) == nil && report["processing"] == "failed"
	}, 60*time.Second, 500*time.Millisecond, "event %d: %v", id, report)
	require.Contains(t, report["processing_error"], "a previous attempt died while processing this event")
	require.Empty(t, report["rules"], "no rule evaluated")
	out, _, code = in.attune("event", "get", strconv.FormatInt(id, 10))
	require.Equal(t, 0, code)
	require.Contains(t, out, "processing: failed: a previous attempt died while processing this event")
	require.Contains(t, out, "rules:      none evaluated")
	require.Equal(t, 0, stop(), "logs:\n%s", logs)
}
