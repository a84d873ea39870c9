package runtimes

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/attune-run/attune"
	"github.com/stretchr/testify/require"
)

// coreEcho returns a request running packs/core/actions/echo.sh as core.echo does.
func coreEcho(t testing.TB, params map[string]any) Request {
	t.Helper()
	script, err := os.ReadFile(filepath.Join("..", "packs", "core", "actions", "echo.sh"))
	require.NoError(t, err)
	return Request{
		Action: attune.Action{
			Ref: "core.echo", PackRef: "core", Runtime: attune.RuntimeShell,
			EntryPoint: "echo.sh", EntryContent: script, ParameterFormat: attune.ParamsDotenv,
		},
		Parameters:      params,
		ParameterFormat: attune.ParamsDotenv,
		Timeout:         30 * time.Second,
	}
}

// TestCoreEchoReadsParametersWithoutAnotherProgram runs core.echo with a PATH where no program
// can be found: it reads its dotenv parameters with the shell alone (no cat), multi-line and
// quoted values included.
func TestCoreEchoReadsParametersWithoutAnotherProgram(t *testing.T) {
	t.Parallel()
	b := setup(t)
	message := "it's $(not run) `either`\nsecond line; $HOME"
	req := coreEcho(t, map[string]any{"message": message})
	req.Action.Env = map[string]string{"PATH": filepath.Join(b.dir, "no-programs-here")}

	res := b.run(t, context.Background(), req)

	require.Equal(t, attune.StatusCompleted, res.Status, res.Stderr)
	require.Equal(t, message+"\n", res.Stdout)
	require.Empty(t, res.Stderr)
}

// BenchmarkEchoVersusSpawn runs core.echo (packs/core/actions/echo.sh) through the shell runtime
// and `/bin/sh -c true` (the bench's B2 baseline) in turn, one at a time, and reports the time of
// each and echo_per_spawn: the share of the spawn rate that the runtime reaches (1 would be as
// cheap as one bare sh). Alternating the two spreads the machine's noise over both.
func BenchmarkEchoVersusSpawn(b *testing.B) {
	set := New(Config{WorkDir: filepath.Join(b.TempDir(), "work")})
	req := coreEcho(b, map[string]any{"message": "event 1"})
	ctx := context.Background()
	var spawn, echo time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		require.NoError(b, exec.Command("/bin/sh", "-c", "true").Run())
		t1 := time.Now()
		res, err := set.Run(ctx, req)
		require.NoError(b, err)
		require.Equal(b, attune.StatusCompleted, res.Status, res.Error)
		require.Equal(b, "event 1\n", res.Stdout)
		spawn, echo = spawn+t1.Sub(t0), echo+time.Since(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(spawn.Microseconds())/n, "spawn_us/op")
	b.ReportMetric(float64(echo.Microseconds())/n, "echo_us/op")
	b.ReportMetric(float64(spawn)/float64(echo), "echo_per_spawn")
}
