package bench

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseProcStat(t *testing.T) {
	t.Parallel()
	// A backend's command name holds spaces and parentheses; fields 14-17 are utime, stime,
	// cutime and cstime in clock ticks.
	line := "4242 (postgres: bench (x) idle) S 4100 4100 4100 0 -1 4194560 900 0 0 0 250 50 30 20 20 0 1 0 123 456 789"
	st, ok := parseProcStat(line)
	require.True(t, ok)
	require.Equal(t, procStat{ppid: 4100, cpu: 3, reaped: 0.5}, st)

	for _, bad := range []string{"", "4242 (sh) S 1 2", "4242 no parenthesis", "4242 (sh) S x 1 1 0 -1 0 0 0 0 0 a b c d"} {
		_, ok := parseProcStat(bad)
		require.False(t, ok, "%q", bad)
	}
}

func TestCPUPer(t *testing.T) {
	t.Parallel()
	at := time.Now()
	a := cpuSample{at: at, busy: 100, postgres: 10, bench: 5, children: 1, workers: 0}
	b := cpuSample{at: at.Add(time.Second), busy: 102, postgres: 12, bench: 5.5, children: 1.25, workers: 0.5}
	got := cpuPer(a, b, 500)
	require.Equal(t, CPUCost{Attune: 2, Postgres: 4, Actions: 0.5}, got, "1 s of attune (replica 0.5 + workers 0.5), 2 s of postgres, 0.25 s of actions over 500")
	require.InDelta(t, 6.5, got.Total(), 1e-9)
	require.Equal(t, "attune 2.00 + postgres 4.00 + actions 0.50 = 6.50", got.String())
	require.Equal(t, "attune 2.00 + postgres 4.00 = 6.00", CPUCost{Attune: 2, Postgres: 4}.String())

	require.Equal(t, CPUCost{}, cpuPer(a, b, 0), "no executions")
	// A worker process that exited between the samples reads as 0: never a negative cost.
	require.Equal(t, CPUCost{Postgres: 4, Actions: 0.5}, cpuPer(cpuSample{bench: 5, workers: 3, postgres: 10, children: 1}, b, 500))
}

func TestPerExec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		before, after, own int64
		execs              int
		want               float64
	}{
		{"the bench's own statements are left out", 1000, 32000, 1000, 1000, 30},
		{"fractions keep three decimals", 0, 4001, 0, 1000, 4.001},
		{"no executions", 0, 10, 0, 0, 0},
		{"never negative", 10, 10, 5, 100, 0},
	}
	for _, tt := range tests {
		require.InDelta(t, tt.want, perExec(tt.before, tt.after, tt.own, tt.execs), 1e-9, tt.name)
	}
}

// The table shows what one execution costs next to the rates, and says the scale-out rate cannot
// rise where PostgreSQL shares two CPUs or fewer.
func TestTableShowsCostPerExecution(t *testing.T) {
	t.Parallel()
	r := &Report{NoopExecPerS: 500, BaselineRiverJobsPerS: 1000,
		NoopCPUms: CPUCost{Attune: 1.2, Postgres: 2.8}, NoopStatements: 31.25, NoopCommits: 4.02, NoopRiverJobs: 6,
		ShellCPUms: CPUCost{Attune: 2, Postgres: 3, Actions: 1.5}, ShellCommits: 4.5, ShellRiverJobs: 6,
		Details: Details{
			Ran:  map[string]bool{"b1": true, "noop_throughput": true, "shell_throughput": true, "scaleout": true},
			Noop: throughput{Executed: 1000, ExecElapsed: time.Second, Elapsed: 2 * time.Second, Drain: time.Second, JobsAfter: 3000},
			Scale: []scaleResult{{Replicas: 1, PerS: 400, Cost: CPUCost{Attune: 1, Postgres: 3}},
				{Replicas: 2, PerS: 380, Cost: CPUCost{Attune: 1.5, Postgres: 3.5}},
				{Replicas: 4, PerS: 300, Cost: CPUCost{Attune: 2, Postgres: 4}}},
		}}
	var buf bytes.Buffer
	require.NoError(t, r.WriteTable(&buf))
	out := buf.String()
	line := func(prefix string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), prefix) {
				return l
			}
		}
		t.Fatalf("no line starting %q in:\n%s", prefix, out)
		return ""
	}
	require.Regexp(t, `^noop CPU ms per exec +attune 1\.20 \+ postgres 2\.80 = 4\.00 +- +- +<= 1\.0 +no$`, line("noop CPU ms per exec"))
	require.Regexp(t, `^noop statements / commits per exec +31\.2 / 4\.02 `, line("noop statements / commits"))
	require.Regexp(t, `^noop River jobs per exec +6\.00 +- +- +<= 2 +no$`, line("noop River jobs per exec"))
	require.Regexp(t, `^shell CPU ms per exec +attune 2\.00 \+ postgres 3\.00 \+ actions 1\.50 = 6\.50 `, line("shell CPU ms per exec"))
	require.Regexp(t, `^shell statements / commits per exec +n/a / 4\.50 `, line("shell statements / commits"), "no pg_stat_statements")
	require.Regexp(t, `^scale-out CPU ms per exec, 1/2/4 workers +4\.00 / 5\.00 / 6\.00 +- +x1\.50 `, line("scale-out CPU ms per exec"))
	require.Contains(t, line("noop exec/s waits for every job"), "terminal at 1.0 s (1,000/s), the last of the 3000 jobs still queued then finished at 2.0 s")
	if cpus := runtime.NumCPU(); cpus <= 2 {
		require.Regexp(t, fmt.Sprintf(`cannot rise: %d CPUs shared with PG +n/a$`, cpus), line("scale-out noop exec/s"))
	} else {
		require.Regexp(t, `rises until PG limits +no$`, line("scale-out noop exec/s"))
	}
}
