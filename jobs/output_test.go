package jobs_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/runtimes"
)

var outputPack = map[string]string{
	"pack.yaml": "ref: out\nversion: 1.0.0\n",
	// Prints a line, waits for the test to create $dir/go, prints another.
	"actions/gated.yaml": "ref: gated\nentry_point: gated.sh\nparameter_format: dotenv\n" +
		"parameters:\n  dir: {type: string, required: true}\n",
	"actions/gated.sh": "eval \"$(cat)\"\necho one\necho err-one >&2\n" +
		"while [ ! -e \"$dir/go\" ]; do sleep 0.02; done\necho two\n",
	// Prints 20 MB on stdout.
	"actions/flood.yaml": "ref: flood\nentry_point: flood.sh\n",
	"actions/flood.sh":   "head -c 20000000 /dev/zero | tr '\\000' x\necho done >&2\n",
	// Prints its secret split across two writes far enough apart to be stored apart, and whole
	// on stderr.
	"actions/split.yaml": "ref: split\nentry_point: split.sh\nparameter_format: dotenv\n" +
		"parameters:\n  token: {type: string, secret: true, required: true}\n",
	"actions/split.sh": "eval \"$(cat)\"\nfirst=${token%????????}\nrest=${token#\"$first\"}\n" +
		"printf 'token: %s' \"$first\"\nsleep 0.6\nprintf '%s end\\n' \"$rest\"\necho \"$token\" >&2\n",
	// Prints lines with pauses between them.
	"actions/lines.yaml": "ref: lines\nentry_point: lines.sh\n",
	"actions/lines.sh":   "for i in 1 2 3 4 5; do echo \"line $i\"; sleep 0.1; done\n",
}

// While an action runs, what it prints is stored: the first line is in the database before the
// action ends, and the stored output is the whole output, stream by stream.
func TestLiveOutputIsStoredWhileTheActionRuns(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerPack(t, e, outputPack)
	dir := t.TempDir()

	x, err := e.P.Run(ctx, "out.gated", map[string]any{"dir": dir}, 0)
	require.NoError(t, err)
	waitOutput(t, e, x.ID, "one\n")
	waitOutput(t, e, x.ID, "err-one\n")
	running, err := e.DB.AutoCommit().Execution(ctx, x.ID)
	require.NoError(t, err)
	require.Equal(t, attune.StatusRunning, running.Status, "output stored before the action ends")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "go"), nil, 0o644))
	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, "one\ntwo\n", outputText(t, e, x.ID, attune.StreamStdout))
	require.Equal(t, "err-one\n", outputText(t, e, x.ID, attune.StreamStderr))
}

// An action that prints 20 MB stores a bounded number of batches, and no more than the output
// cap, marked where it was cut, as the result is.
func TestLiveOutputIsBatchedAndCapped(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerPack(t, e, outputPack)

	x, err := e.P.Run(ctx, "out.flood", nil, 0)
	require.NoError(t, err)
	x = e.WaitTerminal(t, x.ID, 60*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)

	var rows int
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM attune.execution_output WHERE execution_id = $1`, x.ID).Scan(&rows))
	// A batch is stored when 64 KiB wait or every 250 ms: at most one per 64 KiB of the 1 MiB
	// kept, one per 250 ms of the run, and the last one with the truncation marker.
	ms := int(result(t, x)["duration_ms"].(float64))
	require.LessOrEqual(t, rows, runtimes.DefaultOutputCap/(64<<10)+ms/250+3, "a bounded number of batches")
	require.Less(t, rows, 100)
	capped := runtimes.DefaultOutputCap
	want := strings.Repeat("x", capped) + "\n…[truncated 18951424 bytes]\n"
	require.Equal(t, 20000000-capped, 18951424)
	require.Equal(t, want, outputText(t, e, x.ID, attune.StreamStdout))
	require.Equal(t, "done\n", outputText(t, e, x.ID, attune.StreamStderr))
}

// A secret is masked in the stored live output, even when the action prints it in two pieces
// that reach the worker a while apart.
func TestLiveOutputScrubsSecrets(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerPack(t, e, outputPack)
	token := randomSecret(t, "tok-")

	x, err := e.P.Run(ctx, "out.split", map[string]any{"token": token}, 0)
	require.NoError(t, err)
	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)

	require.NotContains(t, tableText(t, e, "attune.execution_output"), token)
	require.NotContains(t, tableText(t, e, "attune.execution_output"), token[len(token)-8:], "not even its second half")
	require.Equal(t, "token: ******** end\n", outputText(t, e, x.ID, attune.StreamStdout))
	require.Equal(t, "********\n", outputText(t, e, x.ID, attune.StreamStderr))
}

// FollowOutput, which attune execution tail and the API's stream use, replays what is stored,
// follows the rest as it comes and returns once the execution is terminal, with all of it.
func TestFollowOutputFollowsToTheEnd(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerPack(t, e, outputPack)

	x, err := e.P.Run(ctx, "out.lines", nil, 0)
	require.NoError(t, err)
	waitOutput(t, e, x.ID, "line 1\n")
	var got strings.Builder
	var seqs []int64
	end, err := e.DB.FollowOutput(ctx, e.Hub, x.ID, 0, func(c attune.OutputChunk) error {
		got.WriteString(c.Data)
		seqs = append(seqs, c.Seq)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, attune.StatusCompleted, end.Status)
	require.Equal(t, "line 1\nline 2\nline 3\nline 4\nline 5\n", got.String())
	for i, s := range seqs {
		require.Equal(t, int64(i+1), s, "every batch once, in order")
	}
}

// A short action's output is stored in the transaction that records its outcome, not in one of
// its own: the output row and the terminal history row were written by the same transaction
// (same xmin), so a finished core.echo costs no separate output commit.
func TestShortActionOutputIsStoredWithItsOutcome(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()

	x, err := e.P.Run(ctx, "core.echo", map[string]any{"message": "hi"}, 0)
	require.NoError(t, err)
	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, "hi\n", outputText(t, e, x.ID, attune.StreamStdout))

	var outputTx []string
	rows, err := e.DB.Pool.Query(ctx, `SELECT xmin::text FROM attune.execution_output WHERE execution_id = $1`, x.ID)
	require.NoError(t, err)
	for rows.Next() {
		var xmin string
		require.NoError(t, rows.Scan(&xmin))
		outputTx = append(outputTx, xmin)
	}
	require.NoError(t, rows.Err())
	var finishTx string
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT xmin::text FROM attune.execution_history
		WHERE execution_id = $1 AND to_status = 'completed'`, x.ID).Scan(&finishTx))
	require.Equal(t, []string{finishTx}, outputTx, "one output row, written with the outcome")
}

// A long action's output still streams: a batch is stored while it runs, in a transaction of
// its own, and the rest with the outcome.
func TestLongActionOutputStreamsThenEndsWithItsOutcome(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerPack(t, e, outputPack)
	dir := t.TempDir()

	x, err := e.P.Run(ctx, "out.gated", map[string]any{"dir": dir}, 0)
	require.NoError(t, err)
	waitOutput(t, e, x.ID, "one\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go"), nil, 0o644))
	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, "one\ntwo\n", outputText(t, e, x.ID, attune.StreamStdout))

	var live, withOutcome int
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE o.xmin <> h.xmin), count(*) FILTER (WHERE o.xmin = h.xmin)
		FROM attune.execution_output o JOIN attune.execution_history h
		  ON h.execution_id = o.execution_id AND h.to_status = 'completed'
		WHERE o.execution_id = $1`, x.ID).Scan(&live, &withOutcome))
	require.GreaterOrEqual(t, live, 1, "output stored while the action ran")
	require.Equal(t, 1, withOutcome, "the last of it (\"two\") stored with the outcome")
}
