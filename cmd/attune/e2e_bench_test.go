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
// JSON under its stable keys. It asserts that every phase ran and reported, never how fast.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster and worker processes")
	}
	in := newInstance(t)
	file := filepath.Join(in.dir, "bench.json")
	out, errOut, code := in.attune("bench", "--quick", "--only", "b1,noop_throughput,scaleout", "--events", "300", "--json", file)
	require.Equal(t, 0, code, "attune bench: %s\n%s", out, errOut)
	require.Contains(t, out, "METRIC")
	require.Regexp(t, `noop pipeline exec/s +[0-9,]+ +B1 `, out)
	require.Regexp(t, `shell pipeline exec/s +not run`, out)

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

	// The bench ran on its own throwaway cluster: nothing under the working directory.
	_, statErr := os.Stat(filepath.Join(in.dir, ".attune"))
	require.True(t, os.IsNotExist(statErr))
}
