package jobs_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/params"
)

var rerunPack = map[string]string{
	"pack.yaml": "ref: again\nversion: 1.0.0\n",
	"actions/greet.yaml": "ref: greet\nentry_point: greet.sh\nparameter_format: dotenv\n" +
		"parameters:\n  dir: {type: string, required: true}\n  name: {type: string, required: true}\n" +
		"  count: {type: integer, default: 1}\n  token: {type: string, secret: true}\n",
	// Records the secret it got where the test can read it; prints only the name.
	"actions/greet.sh": "eval \"$(cat)\"\nprintf '%s' \"$token\" > \"$dir/token-$ATTUNE_EXECUTION_ID\"\necho \"hello $name x$count\"\n",
}

// A re-run is a new execution of the same action with the old parameters, the new ones merged
// over them, validated as attune run validates, pointing back with rerun_of. The old secret
// parameter reaches the new run, still stored sealed and redacted, unless given anew.
func TestRerunMergesParametersAndCarriesSecrets(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerPack(t, e, rerunPack)
	dir := t.TempDir()
	token := randomSecret(t, "tok-")

	first, err := e.P.Run(ctx, "again.greet", map[string]any{"dir": dir, "name": "ann", "count": 3, "token": token}, 0)
	require.NoError(t, err)
	first = e.WaitTerminal(t, first.ID, 10*time.Second)
	require.Equal(t, attune.StatusCompleted, first.Status, first.Error)

	second, err := e.P.Rerun(ctx, first.ID, map[string]any{"name": "bob"})
	require.NoError(t, err)
	require.NotEqual(t, first.ID, second.ID)
	require.Equal(t, &first.ID, second.RerunOf)
	require.Equal(t, map[string]any{"dir": dir, "name": "bob", "count": float64(3), "token": params.Mask}, second.Parameters)
	second = e.WaitTerminal(t, second.ID, 10*time.Second)
	require.Equal(t, attune.StatusCompleted, second.Status, second.Error)
	require.Equal(t, "hello bob x3\n", result(t, second)["stdout"])
	require.Equal(t, token, mustRead(t, filepath.Join(dir, "token-"+strconv.FormatInt(second.ID, 10))))
	stored, err := e.DB.AutoCommit().Execution(ctx, second.ID)
	require.NoError(t, err)
	require.Equal(t, &first.ID, stored.RerunOf)
	require.NotContains(t, tableText(t, e, "attune.execution"), token)

	third, err := e.P.Rerun(ctx, second.ID, map[string]any{"token": "other-secret"})
	require.NoError(t, err)
	third = e.WaitTerminal(t, third.ID, 10*time.Second)
	require.Equal(t, "other-secret", mustRead(t, filepath.Join(dir, "token-"+strconv.FormatInt(third.ID, 10))))

	before := countRows(t, e, "execution")
	_, err = e.P.Rerun(ctx, first.ID, map[string]any{"count": "many", "colour": "red"})
	var fe params.FieldErrors
	require.ErrorAs(t, err, &fe)
	require.Len(t, fe, 2, "every field error at once: %v", err)
	require.Equal(t, before, countRows(t, e, "execution"), "nothing written")

	_, err = e.P.Rerun(ctx, 999999, nil)
	require.ErrorIs(t, err, attune.ErrNotFound)
}
