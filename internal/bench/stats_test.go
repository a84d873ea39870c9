package bench

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSummarise(t *testing.T) {
	t.Parallel()
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(100 - i) // 100 .. 1, unsorted on purpose
	}
	tests := []struct {
		name string
		in   []float64
		want Percentiles
	}{
		{"empty", nil, Percentiles{}},
		{"one", []float64{7}, Percentiles{P50: 7, P95: 7, P99: 7, Max: 7, N: 1}},
		{"two: nearest rank rounds up", []float64{2, 1}, Percentiles{P50: 1, P95: 2, P99: 2, Max: 2, N: 2}},
		{"1..100", hundred, Percentiles{P50: 50, P95: 95, P99: 99, Max: 100, N: 100}},
		{"outlier reaches p99 only in a small sample", []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 900},
			Percentiles{P50: 1, P95: 900, P99: 900, Max: 900, N: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := slices.Clone(tt.in)
			require.Equal(t, tt.want, Summarise(tt.in))
			require.Equal(t, in, tt.in, "Summarise must not reorder its input")
		})
	}
}

func TestRateAndRatio(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"rate", Rate(500, 2*time.Second), 250},
		{"rate of nothing", Rate(0, time.Second), 0},
		{"rate over no time", Rate(10, 0), 0},
		{"ratio", Ratio(250, 1000), 0.25},
		{"ratio to zero", Ratio(1, 0), 0},
	}
	for _, tt := range tests {
		require.InDelta(t, tt.want, tt.got, 1e-9, tt.name)
	}
}

func TestNum(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 12345.6: "12,346", 1234567: "1,234,567"} {
		require.Equal(t, want, num(in), "num(%v)", in)
	}
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	in := "postgresql:///attune?host=/tmp/a%20b/sock&port=5433&user=attune"
	require.Equal(t, "postgresql:///bench_b3?host=/tmp/a%20b/sock&port=5433&user=attune", withDatabase(in, "bench_b3"))
}

func TestPlan(t *testing.T) {
	t.Parallel()
	full := Config{}.plan()
	require.Equal(t, 20000, full.events)
	require.Equal(t, 30*time.Second, full.latency)
	require.Equal(t, 30*time.Second, full.timerWindow)
	require.Equal(t, 50, full.timers)
	require.Equal(t, 100, full.latencyRate)
	require.Equal(t, []int{1, 2, 4}, full.replicas)
	require.Equal(t, 5000, full.shellEvents, "a quarter of the events")

	quick := Config{Quick: true}.plan()
	require.Less(t, quick.events, full.events)
	require.Less(t, quick.latency, full.latency)

	require.Less(t, quick.webhooks, full.webhooks)
	require.Less(t, quick.apiRuns, full.apiRuns)

	own := Config{Events: 300, ShellEvents: 30, Webhooks: 200, APIRuns: 20}.plan()
	require.Equal(t, 300, own.events)
	require.Equal(t, 30, own.shellEvents)
	require.Equal(t, 200, own.webhooks)
	require.Equal(t, 20, own.apiRuns)
}

// The JSON keys are a contract: runs are compared over time by them.
func TestReportJSONKeys(t *testing.T) {
	t.Parallel()
	r := &Report{ScaleoutNoopExecPerS: map[string]float64{"1": 1, "2": 2, "4": 3},
		ScaleoutCPUms: map[string]float64{"1": 4, "2": 5, "4": 6}, ShellCPUms: CPUCost{Attune: 1, Postgres: 2, Actions: 3}}
	var buf bytes.Buffer
	require.NoError(t, r.WriteJSON(&buf))
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	require.ElementsMatch(t, []string{
		"baseline_river_jobs_per_s", "baseline_spawn_per_s", "baseline_pg_tx_per_s",
		"noop_exec_per_s", "shell_exec_per_s",
		"noop_latency_ms", "shell_latency_ms", "noop_start_latency_ms",
		"timer_lateness_ms", "timer_committed_ms", "timer_missed", "timer_duplicates",
		"scaleout_noop_exec_per_s", "worker_peak_rss_mb",
		"noop_cpu_ms_per_exec", "noop_statements_per_exec", "noop_commits_per_exec", "noop_river_jobs_per_exec",
		"shell_cpu_ms_per_exec", "shell_statements_per_exec", "shell_commits_per_exec", "shell_river_jobs_per_exec",
		"noop_execution_hot_update_pct", "shell_execution_hot_update_pct",
		"scaleout_cpu_ms_per_exec",
		"webhook_events_per_s", "webhook_ack_ms", "http_baseline_req_per_s", "api_run_noop_ms",
		"policy_admit_ms",
		"workflow_transition_ms", "workflow_transition_running_ms", "with_items",
	}, keys)
	objectKeys := func(key string) []string {
		var o map[string]any
		require.NoError(t, json.Unmarshal(m[key], &o), key)
		var ks []string
		for k := range o {
			ks = append(ks, k)
		}
		return ks
	}
	require.ElementsMatch(t, []string{"items", "concurrency", "seconds", "items_per_s"}, objectKeys("with_items"))
	for _, k := range []string{"noop_latency_ms", "shell_latency_ms", "noop_start_latency_ms", "webhook_ack_ms", "api_run_noop_ms",
		"workflow_transition_ms", "workflow_transition_running_ms"} {
		require.ElementsMatch(t, []string{"p50", "p95", "p99"}, objectKeys(k), k)
	}
	require.ElementsMatch(t, []string{"p50", "p99", "max"}, objectKeys("timer_lateness_ms"))
	require.ElementsMatch(t, []string{"1", "2", "4"}, objectKeys("scaleout_noop_exec_per_s"))
	require.ElementsMatch(t, []string{"1", "2", "4"}, objectKeys("scaleout_cpu_ms_per_exec"))
	require.ElementsMatch(t, []string{"attune", "postgres"}, objectKeys("noop_cpu_ms_per_exec"), "no action processes, no key")
	require.ElementsMatch(t, []string{"attune", "postgres", "actions"}, objectKeys("shell_cpu_ms_per_exec"))
}

func TestTableMarksPhasesNotRun(t *testing.T) {
	t.Parallel()
	r := &Report{NoopExecPerS: 500, BaselineRiverJobsPerS: 1000,
		Details: Details{Ran: map[string]bool{"b1": true, "noop_throughput": true}}}
	var buf bytes.Buffer
	require.NoError(t, r.WriteTable(&buf))
	out := buf.String()
	line := func(prefix string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		t.Fatalf("no line starting %q in:\n%s", prefix, out)
		return ""
	}
	require.Regexp(t, `^noop pipeline exec/s +500 +B1 1,000 +50% +>= 25% of B1 +yes$`, line("noop pipeline exec/s "))
	require.Contains(t, line("shell pipeline exec/s "), "not run")
	require.Contains(t, line("timer lateness"), "not run")
}

// with_items_1000_s is the key, so it is there only when the run had 1,000 items.
func TestReportWithItems1000Key(t *testing.T) {
	t.Parallel()
	keys := func(r *Report) map[string]json.RawMessage {
		var buf bytes.Buffer
		require.NoError(t, r.WriteJSON(&buf))
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
		return m
	}
	require.NotContains(t, keys(&Report{WithItems: withItemsResult{Items: 200, Concurrency: 50, Seconds: 1.5}}), "with_items_1000_s")
	m := keys(&Report{WithItems: withItemsResult{Items: 1000, Concurrency: 50, Seconds: 4.4}, WithItems1000S: 4.4})
	require.JSONEq(t, "4.4", string(m["with_items_1000_s"]))
}
