package main_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/internal/pgtest"
)

// externalInstance is an instance pointed at a fresh, empty database of the test server.
func externalInstance(t *testing.T) (*instance, string) {
	t.Helper()
	url := pgtest.NewDatabase(t, "", nil)
	in := newInstance(t)
	in.env = append(in.env, "ATTUNE_DATABASE_URL="+url)
	return in, url
}

// tables lists the schemas attune and River would create, as found in the database at url.
func attuneTables(t *testing.T, url string) (hasAttune, hasRiver bool) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	require.NoError(t, conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'attune'),
		to_regclass('public.river_job') IS NOT NULL`).Scan(&hasAttune, &hasRiver))
	return hasAttune, hasRiver
}

// Only start and migrate change an external database's schema: other commands say to run
// attune migrate, and migrate asks before taking over another application's database.
func TestOnlyMigrateChangesAnExternalSchema(t *testing.T) {
	t.Parallel()
	in, url := externalInstance(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `CREATE TABLE orders (id int PRIMARY KEY)`)
	require.NoError(t, err)
	conn.Close(ctx)

	for _, args := range [][]string{{"rule", "list"}, {"status"}, {"run", "core.echo", "message=hi"}} {
		out, errOut, code := in.attune(args...)
		require.NotEqual(t, 0, code, "%v: %s %s", args, out, errOut)
		require.Contains(t, errOut, "has no attune schema", "%v", args)
		require.Contains(t, errOut, "run `attune migrate` first", "%v", args)
	}
	hasAttune, hasRiver := attuneTables(t, url)
	require.False(t, hasAttune || hasRiver, "no command but migrate and start creates attune's or River's tables")

	out, errOut, code := in.attune("migrate", "status")
	require.Equal(t, 0, code, "%s %s", out, errOut)
	require.Regexp(t, `attune +1 +00001_init.sql +pending`, out)
	hasAttune, hasRiver = attuneTables(t, url)
	require.False(t, hasAttune || hasRiver, "migrate status changes nothing")

	out, errOut, code = in.attune("migrate")
	require.Equal(t, 2, code, "%s %s", out, errOut)
	require.Contains(t, errOut, "holds 1 table and no attune schema")
	require.Contains(t, errOut, "attune migrate --yes")
	hasAttune, hasRiver = attuneTables(t, url)
	require.False(t, hasAttune || hasRiver, "migrate without --yes changes nothing")

	out, errOut, code = in.attune("start")
	require.Equal(t, 1, code, "%s %s", out, errOut)
	require.Contains(t, errOut, "holds 1 table and no attune schema")
	hasAttune, hasRiver = attuneTables(t, url)
	require.False(t, hasAttune || hasRiver, "start does not take another application's database over")

	out, errOut, code = in.attune("migrate", "--yes")
	require.Equal(t, 0, code, "%s %s", out, errOut)
	out, errOut, code = in.attune("rule", "list")
	require.Equal(t, 0, code, "%s %s", out, errOut)
}

// The operator's natural order on an external database, migrate then register then start,
// works: migrate registers the built-in core pack that packs' rules refer to.
func TestMigrateThenRegisterOnAnExternalDatabase(t *testing.T) {
	t.Parallel()
	in, _ := externalInstance(t)
	migrated, errOut, code := in.attune("migrate")
	require.Equal(t, 0, code, "%s %s", migrated, errOut)

	pack := filepath.Join(in.dir, "mypack")
	writeFiles(t, pack, map[string]string{
		"pack.yaml": "ref: mypack\nversion: 1.0.0\n",
		"rules/tick.yaml": `ref: tick
trigger_ref: core.intervaltimer
trigger_params: {interval: 1, unit: minutes}
action_ref: core.echo
action_params: {message: tick}
`,
	})
	out, errOut, code := in.attune("pack", "register", pack)
	require.Equal(t, 0, code, "%s %s", out, errOut)
	require.Contains(t, out, "registered pack mypack 1.0.0: 0 actions, 0 triggers, 1 rule\n")
	require.Contains(t, migrated, "registered pack core")

	out, errOut, code = in.attune("migrate")
	require.Equal(t, 0, code, "migrate again: %s %s", out, errOut)
	require.Contains(t, out, "database is up to date")
}
