package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// execCost is what one execution cost, on average over a run: the figures that hold steady on a
// noisy machine, where the rates do not.
type execCost struct {
	CPU CPUCost
	// Statements is the statements the server ran for the run, as pg_stat_statements counts them
	// (calls; BEGIN and COMMIT included, since each is a round trip); 0 without the extension.
	Statements float64
	// Commits is the database's committed transactions (pg_stat_database.xact_commit),
	// read-only ones included.
	Commits float64
	// RiverJobs is the River jobs inserted for the run, the preloaded event jobs included.
	RiverJobs float64
	// Updates and HOTUpdates are the row updates of attune.execution per execution, and how
	// many of them were HOT (no index entry written; pg_stat_user_tables).
	Updates, HOTUpdates float64
}

// HOTPct is the share of attune.execution's updates that were HOT, in percent.
func (c execCost) HOTPct() float64 {
	if c.Updates <= 0 {
		return 0
	}
	return round(100*c.HOTUpdates/c.Updates, 1)
}

// String is the cost's progress line.
func (c execCost) String() string {
	return fmt.Sprintf("per execution: CPU ms %s, %.2f statements, %.2f commits, %.2f River jobs, %.2f execution row updates (%.0f%% HOT)",
		c.CPU, c.Statements, c.Commits, c.RiverJobs, c.Updates, c.HOTPct())
}

// dbCounters are a database's cumulative statement and commit counts, as the server keeps them.
type dbCounters struct {
	statements int64 // sum of pg_stat_statements.calls; 0 when it is not loaded
	commits    int64 // pg_stat_database.xact_commit
}

// counters reads database dbname's counters from the maintenance database, so that reading them
// adds nothing to them. Commits are reported by each backend at most once a second, and at the
// latest when it exits: read them after its connections closed (waitNoBackends).
func (c *cluster) counters(ctx context.Context, dbname string) (dbCounters, error) {
	conn, err := pgx.Connect(ctx, c.admin)
	if err != nil {
		return dbCounters{}, fmt.Errorf("connect to bench cluster: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n dbCounters
	if err := conn.QueryRow(ctx, `SELECT xact_commit FROM pg_stat_database WHERE datname = $1`, dbname).Scan(&n.commits); err != nil {
		return n, fmt.Errorf("read pg_stat_database of %s: %w", dbname, err)
	}
	if c.statements {
		err := conn.QueryRow(ctx, `SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
			WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)`, dbname).Scan(&n.statements)
		if err != nil {
			return n, fmt.Errorf("read pg_stat_statements of %s: %w", dbname, err)
		}
	}
	return n, nil
}

// executionUpdates reads how many rows of attune.execution database dbname has updated, and
// how many of those updates were HOT. Read it once the run's backends exited (waitNoBackends):
// each reports its counts when it exits at the latest.
func (c *cluster) executionUpdates(ctx context.Context, dbname string) (upd, hot int64, err error) {
	conn, err := pgx.Connect(ctx, c.url(dbname))
	if err != nil {
		return 0, 0, fmt.Errorf("connect to %s: %w", dbname, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = conn.QueryRow(ctx, `SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables
		WHERE relid = 'attune.execution'::regclass`).Scan(&upd, &hot)
	if err != nil {
		return 0, 0, fmt.Errorf("read pg_stat_user_tables of %s: %w", dbname, err)
	}
	return upd, hot, nil
}

// waitNoBackends waits until nothing is connected to database dbname, so every backend that
// worked on it has exited and reported its counts.
func (c *cluster) waitNoBackends(ctx context.Context, dbname string) error {
	conn, err := pgx.Connect(ctx, c.admin)
	if err != nil {
		return fmt.Errorf("connect to bench cluster: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	err = waitFor(ctx, 30*time.Second, func() (bool, error) {
		err := conn.QueryRow(ctx, `SELECT numbackends FROM pg_stat_database WHERE datname = $1`, dbname).Scan(&n)
		return n == 0, err
	})
	if err != nil {
		return fmt.Errorf("%d connections still open to %s: %w", n, dbname, err)
	}
	return nil
}

// perExec is a counter's rise from before to after, less the bench's own share, per execution.
// Zero when there were no executions; never negative.
func perExec(before, after, own int64, execs int) float64 {
	if execs <= 0 {
		return 0
	}
	return round(max(float64(after-before-own), 0)/float64(execs), 3)
}

// observer is the bench's own connection to a phase's database, for polling and reading the
// figures. Each of its queries is one statement in one transaction (simple protocol: no separate
// prepare), and it counts them, so that the phase's statement and commit counts can leave them out.
type observer struct {
	conn    *pgx.Conn
	queries int64
}

func openObserver(ctx context.Context, url string) (*observer, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("bench database URL: %w", err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to bench database: %w", err)
	}
	return &observer{conn: conn}, nil
}

// scan runs sql with args and scans its one row into dest.
func (o *observer) scan(ctx context.Context, sql string, args []any, dest ...any) error {
	o.queries++
	return o.conn.QueryRow(ctx, sql, args...).Scan(dest...)
}

func (o *observer) close(ctx context.Context) { _ = o.conn.Close(context.WithoutCancel(ctx)) }
