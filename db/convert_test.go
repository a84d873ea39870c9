package db_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/pgtest"
)

// A stored row whose JSON does not decode into its type (written by hand, or by an older
// attune) is an error that names the row and the column, not an action silently run with no
// retry policy or a rule with no parameters.
func TestCorruptJSONColumnsAreErrorsNamingTheRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "", nil)
	d, err := db.Open(ctx, url, db.Options{MaxConns: 4})
	require.NoError(t, err)
	defer d.Close()
	_, err = db.Migrate(ctx, d.Pool, nil)
	require.NoError(t, err)
	_, err = d.Pool.Exec(ctx, `
		INSERT INTO attune.pack (ref, version) VALUES ('p', '1');
		INSERT INTO attune.action (ref, pack_id, pack_ref, runtime, retry)
		SELECT 'p.bad_retry', id, 'p', 'noop', '"three times"' FROM attune.pack WHERE ref = 'p';
		INSERT INTO attune.action (ref, pack_id, pack_ref, runtime, param_schema)
		SELECT 'p.bad_params', id, 'p', 'noop', '[1, 2]' FROM attune.pack WHERE ref = 'p';
		INSERT INTO attune.rule (ref, pack_id, pack_ref, trigger_ref, action_ref, action_params)
		SELECT 'p.bad_rule', id, 'p', 'core.st2.webhook', 'p.bad_retry', '"x"' FROM attune.pack WHERE ref = 'p'`)
	require.NoError(t, err)
	q := d.AutoCommit()

	_, _, err = q.Action(ctx, "p.bad_retry")
	require.ErrorContains(t, err, "action p.bad_retry: retry")
	_, _, err = q.Action(ctx, "p.bad_params")
	require.ErrorContains(t, err, "action p.bad_params: parameters")
	_, err = q.Rule(ctx, "p.bad_rule")
	require.ErrorContains(t, err, "rule p.bad_rule: action_params")
	_, err = q.Rules(ctx)
	require.ErrorContains(t, err, "rule p.bad_rule: action_params")
}
