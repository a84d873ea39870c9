package runtimes

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// A one-process action costs the worker's process bookkeeping a couple of small /proc reads per
// run, however many threads the worker has: the reaper looks for orphans only where the kernel
// puts them (the main thread's children), and not at all for a group that is already empty.
// Reading every thread's children list two or three times a run was 44% of a shell run's CPU in
// the worker. Not parallel: the count is the process's.
func TestOneProcessRunReadsLittleOfProc(t *testing.T) {
	b := setup(t)
	req := coreEcho(t, map[string]any{"message": "hi"})
	b.run(t, context.Background(), req) // the work directory, the reaper, the watchdog
	const runs = 20
	before := procReads.Load()
	for range runs {
		res := b.run(t, context.Background(), req)
		require.Equal(t, attune.StatusCompleted, res.Status, res.Error)
	}
	perRun := float64(procReads.Load()-before) / runs
	require.LessOrEqual(t, perRun, 3.0, "/proc files read per run")
}
