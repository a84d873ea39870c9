package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// attune bench end to end, cut down to seconds: its own throwaway cluster, the template database,
// an in-process replica draining events, worker replica processes on a paused backlog, and the
// JSON under its stable keys; a replica serving the API on a loopback port, taking signed
// webhook deliveries and runs through POST /api/v1/executions. It asserts that every phase ran and reported, never how fast: the
// cost of an execution (CPU, statements, commits, River jobs) is produced, whatever it is.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster and worker processes")
	}
	in := newInstance(t)
	file := filepath.Join(in.dir, "bench.json")
	out, errOut, code := in.attune("bench", "--quick", "--only", "b1,noop_throughput,shell_throughput,policy_admit,workflow_transition,with_items,scaleout,webhook,api_run", "--events", "300",
		"--webhooks", "200", "--api-runs", "20", "--json", file)
	require.Equal(t, 0, code, "attune bench: %s\n%s", out, errOut)
	require.Contains(t, out, "METRIC")
	require.Regexp(t, `noop pipeline exec/s +[0-9,]+ +B1 `, out)
	require.Regexp(t, `shell pipeline exec/s +[0-9,]+ +B2 `, out)
	require.Regexp(t, `noop River jobs per exec +[0-9.]+ `, out)
	require.Regexp(t, `timer lateness .* +not run`, out)

	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var rep struct {
		RiverJobs float64            `json:"baseline_river_jobs_per_s"`
		Noop      float64            `json:"noop_exec_per_s"`
		ScaleOut  map[string]float64 `json:"scaleout_noop_exec_per_s"`
		RSS       float64            `json:"worker_peak_rss_mb"`
	}
	require.NoError(t, json.Unmarshal(b, &rep))
	require.Positive(t, rep.RiverJobs)
	require.Positive(t, rep.Noop)
	for _, n := range []string{"1", "2", "4"} {
		require.Positive(t, rep.ScaleOut[n], "scale-out with %s worker processes", n)
	}
	require.Positive(t, rep.RSS)

	var costs map[string]any
	require.NoError(t, json.Unmarshal(b, &costs))
	positive := func(key string, v any) {
		t.Helper()
		f, ok := v.(float64)
		require.True(t, ok, "%s is %v (%T), want a number", key, v, v)
		require.Positive(t, f, key)
	}
	for _, kind := range []string{"noop", "shell"} {
		cpu, ok := costs[kind+"_cpu_ms_per_exec"].(map[string]any)
		require.True(t, ok, "%s_cpu_ms_per_exec is %v", kind, costs[kind+"_cpu_ms_per_exec"])
		positive(kind+"_cpu_ms_per_exec.attune", cpu["attune"])
		positive(kind+"_cpu_ms_per_exec.postgres", cpu["postgres"])
		for _, k := range []string{"_statements_per_exec", "_commits_per_exec", "_river_jobs_per_exec", "_execution_hot_update_pct"} {
			positive(kind+k, costs[kind+k])
		}
	}
	// The HTTP API's figures: signed webhook deliveries acknowledged with 202, against a bare
	// net/http handler, and POST /api/v1/executions of core.noop until terminal.
	positive("webhook_events_per_s", costs["webhook_events_per_s"])
	positive("http_baseline_req_per_s", costs["http_baseline_req_per_s"])
	for _, key := range []string{"webhook_ack_ms", "api_run_noop_ms", "policy_admit_ms"} {
		l, ok := costs[key].(map[string]any)
		require.True(t, ok, "%s is %v", key, costs[key])
		positive(key+".p50", l["p50"])
		positive(key+".p99", l["p99"])
	}
	require.Regexp(t, `policy slot freed->next running ms p50/p95/p99 +[0-9.]+ / `, out)
	// Workflows: the transitions of a sequential workflow of core.noop tasks (terminal -> next
	// dispatched, and -> next running), and a with-items of core.noop at concurrency 50 (quick:
	// 200 items; with_items_1000_s is only in a full run).
	for _, key := range []string{"workflow_transition_ms", "workflow_transition_running_ms"} {
		l, ok := costs[key].(map[string]any)
		require.True(t, ok, "%s is %v", key, costs[key])
		positive(key+".p50", l["p50"])
		positive(key+".p99", l["p99"])
	}
	items, ok := costs["with_items"].(map[string]any)
	require.True(t, ok, "with_items is %v", costs["with_items"])
	require.EqualValues(t, 200, items["items"])
	require.EqualValues(t, 50, items["concurrency"])
	positive("with_items.seconds", items["seconds"])
	require.NotContains(t, costs, "with_items_1000_s", "a quick run has 200 items, not 1,000")
	require.Regexp(t, `workflow child terminal->next dispatched ms p50/p95/p99 +[0-9.]+ / `, out)
	require.Regexp(t, `with-items 200 core.noop, concurrency 50, s +[0-9.]+ `, out)
	require.Regexp(t, `webhook signed deliveries 202/s \(20 clients\) +[0-9,]+ +HTTP [0-9,]+ `, out)

	scaleCPU, ok := costs["scaleout_cpu_ms_per_exec"].(map[string]any)
	require.True(t, ok, "scaleout_cpu_ms_per_exec is %v", costs["scaleout_cpu_ms_per_exec"])
	for _, n := range []string{"1", "2", "4"} {
		positive("scaleout_cpu_ms_per_exec."+n, scaleCPU[n])
	}

	// The bench ran on its own throwaway cluster: nothing under the working directory.
	_, statErr := os.Stat(filepath.Join(in.dir, ".attune"))
	require.True(t, os.IsNotExist(statErr))
}
