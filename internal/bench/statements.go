package bench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5"
)

// topStatements prints the statements that took the most time in database dbname since the last
// reset, with their calls per execution: the round trips behind a phase's figures.
func (c *cluster) topStatements(ctx context.Context, w io.Writer, dbname string) error {
	if w == nil {
		return nil
	}
	conn, err := pgx.Connect(ctx, c.url(dbname))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", dbname, err)
	}
	var execs int64
	err = conn.QueryRow(ctx, `SELECT count(*) FROM attune.execution`).Scan(&execs)
	conn.Close(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("count executions in %s: %w", dbname, err)
	}
	admin, err := pgx.Connect(ctx, c.admin)
	if err != nil {
		return fmt.Errorf("connect to bench cluster: %w", err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	rows, err := admin.Query(ctx, `
		SELECT calls, total_exec_time, total_plan_time, mean_exec_time, left(regexp_replace(query, '\s+', ' ', 'g'), 120)
		FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)
		ORDER BY total_exec_time + total_plan_time DESC`, dbname)
	if err != nil {
		return fmt.Errorf("read pg_stat_statements: %w", err)
	}
	type stmt struct {
		calls             int64
		total, plan, mean float64
		query             string
	}
	var all []stmt
	var s stmt
	if _, err := pgx.ForEachRow(rows, []any{&s.calls, &s.total, &s.plan, &s.mean, &s.query}, func() error {
		all = append(all, s)
		return nil
	}); err != nil {
		return fmt.Errorf("read pg_stat_statements: %w", err)
	}
	var calls int64
	var total, plan float64
	for _, s := range all {
		calls, total, plan = calls+s.calls, total+s.total, plan+s.plan
	}
	per := func(n int64) string {
		if execs == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", float64(n)/float64(execs))
	}
	fmt.Fprintf(w, "  %s: %d executions, %d statements (%s per execution), %.0f ms executing and %.0f ms planning in the server\n",
		dbname, execs, calls, per(calls), total, plan)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  CALLS\tPER EXEC\tEXEC MS\tPLAN MS\tMEAN MS\tQUERY")
	for i, s := range all {
		if i == 15 {
			break
		}
		fmt.Fprintf(tw, "  %d\t%s\t%.0f\t%.0f\t%.3f\t%s\n", s.calls, per(s.calls), s.total, s.plan, s.mean, strings.TrimSpace(s.query))
	}
	return tw.Flush()
}
