package main

import (
	"testing"
	"time"

	"github.com/spf13/viper"
	"github.com/stretchr/testify/require"
)

// With the defaults, a replica killed with SIGKILL has its running executions abandoned within
// 15 s: its last heartbeat is at most worker.heartbeat old at the kill, it is silent
// worker.silent_after after that beat, and the reaper looks every worker.silent_after / 2.
func TestDefaultsAbandonACrashedWorkerWithin15s(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, err := loadConfig(viper.New(), "")
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	w := cfg.Worker
	require.GreaterOrEqual(t, w.Heartbeat, 2*time.Second, "a heartbeat is one UPDATE per replica; not more often than that")
	require.LessOrEqual(t, w.Heartbeat, 3*time.Second)
	worst := w.SilentAfter + w.SilentAfter/2
	require.LessOrEqual(t, worst, 15*time.Second, "heartbeat %s, silent_after %s", w.Heartbeat, w.SilentAfter)
}

// Validate refuses a silent window under three heartbeats, naming both keys and their values.
func TestValidateGuardsHeartbeatRatio(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("ATTUNE_WORKER_HEARTBEAT", "2s")
	t.Setenv("ATTUNE_WORKER_SILENT_AFTER", "5s")
	cfg, err := loadConfig(viper.New(), "")
	require.NoError(t, err)
	err = cfg.Validate()
	require.Error(t, err)
	for _, want := range []string{"worker.silent_after", "5s", "worker.heartbeat", "2s", "6s"} {
		require.Contains(t, err.Error(), want)
	}

	t.Setenv("ATTUNE_WORKER_SILENT_AFTER", "6s")
	cfg, err = loadConfig(viper.New(), "")
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
}
