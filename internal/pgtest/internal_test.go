package pgtest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTemplateName(t *testing.T) {
	t.Parallel()
	require.Equal(t, "attune_tpl_abc_123", templateName("abc_123"))
	require.Equal(t, "attune_tpl_default", templateName(""))

	mixed := templateName("Migrations-v2")
	require.True(t, strings.HasPrefix(mixed, "attune_tpl_migrations_v2_"), mixed)
	require.NotEqual(t, mixed, templateName("migrations_v2"), "keys that clean up alike stay apart")

	long := templateName(strings.Repeat("k", 100))
	require.Len(t, long, 63)
	require.NotEqual(t, long, templateName(strings.Repeat("k", 101)))
}

func TestDatabaseURL(t *testing.T) {
	t.Parallel()
	got, err := databaseURL("postgresql:///attune?host=/tmp/x/sock&port=5432&user=attune", "t1")
	require.NoError(t, err)
	require.Equal(t, "postgresql:///t1?host=/tmp/x/sock&port=5432&user=attune", got)

	got, err = databaseURL("postgres://u:p@db:5432/postgres?sslmode=disable", "t1")
	require.NoError(t, err)
	require.Equal(t, "postgres://u:p@db:5432/t1?sslmode=disable", got)

	got, err = databaseURL("host=/tmp port=5432 dbname=postgres", "t1")
	require.NoError(t, err)
	require.Equal(t, "host=/tmp port=5432 dbname=postgres dbname=t1", got)
}
