package db_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/pgtest"
)

// Every session of the pool runs with the configured plan_cache_mode, unless the URL says
// otherwise; empty leaves the server's own.
func TestOpenSetsPlanCacheMode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "", nil)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	tests := []struct {
		name, url, mode, want string
	}{
		{"configured", url, "force_generic_plan", "force_generic_plan"},
		{"empty keeps the server's", url, "", "auto"},
		{"the URL wins", url + sep + "plan_cache_mode=force_custom_plan", "force_generic_plan", "force_custom_plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := db.Open(ctx, tt.url, db.Options{MaxConns: 2, PlanCacheMode: tt.mode})
			require.NoError(t, err)
			defer d.Close()
			var got string
			require.NoError(t, d.Pool.QueryRow(ctx, "SHOW plan_cache_mode").Scan(&got))
			require.Equal(t, tt.want, got)
		})
	}
}

// The pool opens MinConns connections before Open returns, so the first work after a start
// (a timer's first tick) does not wait for connections to be made.
func TestOpenWarmsMinConns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := db.Open(ctx, pgtest.NewDatabase(t, "", nil), db.Options{MaxConns: 8, MinConns: 5})
	require.NoError(t, err)
	defer d.Close()
	st := d.Pool.Stat()
	require.EqualValues(t, 5, st.TotalConns(), "connections open")
	require.EqualValues(t, 5, st.IdleConns(), "all given back")
}
