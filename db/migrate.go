package db

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// gooseTable keeps attune's migration versions in attune's schema, apart from a team's own
// goose table. The schema is created before goose looks for its table.
const gooseTable = "attune.goose_db_version"

// RiverSchema is where River's tables live. It is pinned rather than left to the search path:
// with the common search path "$user", public, a role named attune would otherwise see
// attune's own schema first and create River's later tables there.
const RiverSchema = "public"

// migrateLockID is the advisory lock that serialises migrations from replicas booting together.
const migrateLockID int64 = 0x617474756e65 // "attune"

// Migration is one migration and whether it is applied.
type Migration struct {
	Owner     string // "attune" or "river"
	Version   int64
	Name      string
	Applied   bool
	AppliedAt *time.Time
}

// Migrate applies River's and attune's pending migrations under one advisory lock, so several
// replicas can boot at once. It returns the names of the migrations it applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) ([]string, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: acquire connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockID); err != nil {
		return nil, fmt.Errorf("migrate: take advisory lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockID) //nolint:errcheck

	var applied []string
	rm, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: RiverSchema})
	if err != nil {
		return nil, fmt.Errorf("migrate river: %w", err)
	}
	res, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate river: %w", err)
	}
	for _, v := range res.Versions {
		applied = append(applied, fmt.Sprintf("river %03d_%s", v.Version, v.Name))
	}

	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS attune"); err != nil {
		return nil, fmt.Errorf("migrate attune: create schema: %w", err)
	}
	p, closeP, err := gooseProvider(pool)
	if err != nil {
		return nil, err
	}
	defer closeP()
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate attune: %w", err)
	}
	for _, r := range results {
		applied = append(applied, "attune "+r.Source.Path)
	}
	for _, a := range applied {
		log.Info("migration applied", "migration", a)
	}
	if len(applied) > 0 {
		if err := prepareIdle(ctx, pool, conn); err != nil {
			return applied, err
		}
	}
	return applied, nil
}

// prepareIdle prepares the hot statements on held and on the pool's idle connections, which
// were opened before the migrations made their tables (Open warms the pool first).
func prepareIdle(ctx context.Context, pool *pgxpool.Pool, held *pgxpool.Conn) error {
	conns := append(pool.AcquireAllIdle(ctx), held)
	var err error
	for _, c := range conns {
		if err == nil {
			err = prepareHot(ctx, c.Conn())
		}
		if c != held {
			c.Release()
		}
	}
	if err != nil {
		return fmt.Errorf("migrate: prepare the hot statements: %w", err)
	}
	return nil
}

// MigrationStatus lists River's and attune's migrations and whether each is applied. It changes
// nothing.
func MigrationStatus(ctx context.Context, pool *pgxpool.Pool) ([]Migration, error) {
	rm, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: RiverSchema})
	if err != nil {
		return nil, fmt.Errorf("river migrations: %w", err)
	}
	existing := map[int]bool{}
	if ex, err := rm.ExistingVersions(ctx); err == nil { // the river table may not exist yet
		for _, m := range ex {
			existing[m.Version] = true
		}
	}
	var out []Migration
	for _, m := range rm.AllVersions() {
		out = append(out, Migration{Owner: "river", Version: int64(m.Version), Name: m.Name, Applied: existing[m.Version]})
	}
	var hasTable bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, gooseTable).Scan(&hasTable); err != nil {
		return nil, fmt.Errorf("attune migrations: %w", err)
	}
	if !hasTable { // not migrated yet; goose would create its table to answer
		files, err := fs.ReadDir(migrations, "migrations")
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if v, err := goose.NumericComponent(f.Name()); err == nil {
				out = append(out, Migration{Owner: "attune", Version: v, Name: f.Name()})
			}
		}
		return out, nil
	}
	p, closeP, err := gooseProvider(pool)
	if err != nil {
		return nil, err
	}
	defer closeP()
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("attune migrations: %w", err)
	}
	for _, s := range st {
		m := Migration{Owner: "attune", Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied}
		if m.Applied {
			at := s.AppliedAt
			m.AppliedAt = &at
		}
		out = append(out, m)
	}
	return out, nil
}

func gooseProvider(pool *pgxpool.Pool) (*goose.Provider, func(), error) {
	sqlDB := stdlib.OpenDBFromPool(pool)
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, sub,
		goose.WithTableName(gooseTable), goose.WithDisableGlobalRegistry(true),
		// Migrations from branches may land out of order on a development database.
		goose.WithAllowOutofOrder(true))
	if err != nil {
		sqlDB.Close()
		return nil, nil, fmt.Errorf("attune migrations: %w", err)
	}
	return p, func() { sqlDB.Close() }, nil
}
