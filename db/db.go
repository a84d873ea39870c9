// Package db is attune's PostgreSQL adapter: embedded migrations, the sqlc-generated queries
// (private, under internal/), the mapping between rows and domain types, and a transaction helper.
// Nothing outside this package sees a generated row type or pgtype; pgx.ErrNoRows becomes
// attune.ErrNotFound here, in one place.
package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// Options tune the connection pool.
type Options struct {
	MaxConns int32 // 0 keeps pgx's default
	// MinConns is how many connections the pool opens before Open returns and keeps open
	// however idle, so that the first work after a start (a timer's first tick) and after a
	// quiet spell does not wait for connections to be made. 0 opens them on demand.
	MinConns int32
	// PlanCacheMode is PostgreSQL's plan_cache_mode for the pool's sessions, e.g.
	// "force_generic_plan"; empty leaves the server's setting. A plan_cache_mode in the URL wins.
	PlanCacheMode string
}

// DB is a connection pool to attune's database.
type DB struct {
	Pool *pgxpool.Pool
}

// Open connects to url and checks the connection.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	cfg.MinConns = min(opts.MinConns, cfg.MaxConns)
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; opts.PlanCacheMode != "" && !set {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = opts.PlanCacheMode
	}
	cfg.AfterConnect = prepareHot
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	warm(ctx, pool, cfg.MinConns)
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &DB{Pool: pool}, nil
}

// warm waits, up to warmWait (a server that cannot be reached fails the ping after it), until the pool has opened its n minimum connections (pgxpool opens
// them in the background), so that Open returns with them ready.
func warm(ctx context.Context, pool *pgxpool.Pool, n int32) {
	deadline := time.Now().Add(warmWait)
	for pool.Stat().IdleConns() < n && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(2 * time.Millisecond)
	}
}

// warmWait bounds how long Open waits for the minimum connections; a slow server is then
// warmed in the background, as pgxpool does.
const warmWait = 2 * time.Second

// Close closes the pool.
func (d *DB) Close() { d.Pool.Close() }

// Queries runs attune's queries on either the pool or one transaction.
type Queries struct {
	q     *dbsqlc.Queries
	tx    pgx.Tx
	batch batcher // where pipelined reads are sent: the pool or the transaction
}

// batcher sends a pgx.Batch: a pool, a connection or a transaction.
type batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// AutoCommit returns queries that run on the pool outside any transaction: each statement
// commits on its own. Use it for reads and for single-statement writes; InTx for anything that
// must commit together.
func (d *DB) AutoCommit() *Queries { return &Queries{q: dbsqlc.New(d.Pool), batch: d.Pool} }

// InTx runs fn in one transaction and commits it when fn returns nil.
func (d *DB) InTx(ctx context.Context, fn func(q *Queries) error) error {
	return inTx(ctx, d.Pool, fn)
}

// InTxOn runs fn in one transaction on conn, a connection the caller took from the pool ahead of
// time (so that the work does not wait for one), and commits it when fn returns nil.
func InTxOn(ctx context.Context, conn *pgxpool.Conn, fn func(q *Queries) error) error {
	return inTx(ctx, conn, fn)
}

func inTx(ctx context.Context, db interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}, fn func(q *Queries) error) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after commit
	if err := fn(WithTx(tx)); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// WithTx returns queries bound to a transaction that the caller owns.
func WithTx(tx pgx.Tx) *Queries { return &Queries{q: dbsqlc.New(tx), tx: tx, batch: tx} }

// Tx returns the transaction the queries run in, or nil on the pool. River's InsertTx and
// JobCompleteTx take it, so the next job commits with the rows it announces.
func (q *Queries) Tx() pgx.Tx { return q.tx }

// notFound maps pgx.ErrNoRows to attune.ErrNotFound, naming what was looked for.
func notFound(err error, what string, key any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s %v: %w", what, key, attune.ErrNotFound)
	}
	return fmt.Errorf("%s %v: %w", what, key, err)
}

// noRow reports whether err means a query returned no row, as compare-and-set and
// ON CONFLICT DO NOTHING queries do when their work was already done.
func noRow(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
