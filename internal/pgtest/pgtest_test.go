package pgtest_test

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// connect opens a connection to url that is closed in t.Cleanup.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func TestNewDatabase(t *testing.T) {
	t.Parallel()
	a := connect(t, pgtest.NewDatabase(t, "", nil))
	b := connect(t, pgtest.NewDatabase(t, "", nil))

	_, err := a.Exec(t.Context(), "CREATE TABLE only_in_a (n int)")
	require.NoError(t, err)

	var inB bool
	require.NoError(t, b.QueryRow(t.Context(), "SELECT to_regclass('only_in_a') IS NOT NULL").Scan(&inB))
	require.False(t, inB, "each test gets its own database")

	var nameA, nameB string
	require.NoError(t, a.QueryRow(t.Context(), "SELECT current_database()").Scan(&nameA))
	require.NoError(t, b.QueryRow(t.Context(), "SELECT current_database()").Scan(&nameB))
	require.NotEqual(t, nameA, nameB)
}

func TestNewDatabaseFromTemplate(t *testing.T) {
	t.Parallel()
	key := strings.ToLower("selftest_" + rand.Text()[:10]) // apart from other runs on one server

	var migrations atomic.Int32
	migrate := func(ctx context.Context, url string) error {
		migrations.Add(1)
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "CREATE TABLE migrated (n int); INSERT INTO migrated VALUES (7)")
		return err
	}

	first := connect(t, pgtest.NewDatabase(t, key, migrate))
	t.Cleanup(func() { dropTemplate(t, key) })
	second := connect(t, pgtest.NewDatabase(t, key, migrate))
	require.Equal(t, int32(1), migrations.Load(), "the template is migrated once")

	for _, conn := range []*pgx.Conn{first, second} {
		var n int
		require.NoError(t, conn.QueryRow(t.Context(), "SELECT n FROM migrated").Scan(&n))
		require.Equal(t, 7, n)
		_, err := conn.Exec(t.Context(), "INSERT INTO migrated VALUES (8)")
		require.NoError(t, err, "a clone is writable and does not change the template")
	}
}

// dropTemplate removes the template database a test built; keys of lower case letters, digits
// and underscores are used as they are.
func dropTemplate(t *testing.T, key string) {
	conn, err := pgx.Connect(context.Background(), pgtest.AdminURL())
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), "DROP DATABASE "+pgx.Identifier{"attune_tpl_" + key}.Sanitize()+" WITH (FORCE)")
	require.NoError(t, err)
}
