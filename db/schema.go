package db

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// ErrSchemaNotReady is wrapped by CheckSchema when attune's or River's migrations are not all
// applied.
var ErrSchemaNotReady = errors.New("database schema is not ready")

// CheckSchema reports, without changing anything, whether every migration of River and of attune
// is applied: nil when they are, else an error wrapping ErrSchemaNotReady that says what is
// missing.
func CheckSchema(ctx context.Context, pool *pgxpool.Pool) error {
	var hasAttune bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('attune.goose_db_version') IS NOT NULL`).Scan(&hasAttune); err != nil {
		return fmt.Errorf("check schema: %w", err)
	}
	if !hasAttune {
		return fmt.Errorf("it has no attune schema: %w", ErrSchemaNotReady)
	}
	applied := map[int64]bool{}
	rows, err := pool.Query(ctx, `SELECT version_id FROM attune.goose_db_version WHERE is_applied`)
	if err != nil {
		return fmt.Errorf("check schema: %w", err)
	}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("check schema: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check schema: %w", err)
	}
	var missing []string
	files, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return err
	}
	for _, f := range files {
		v, err := goose.NumericComponent(f.Name())
		if err == nil && !applied[v] {
			missing = append(missing, "attune "+f.Name())
		}
	}
	rm, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: RiverSchema})
	if err != nil {
		return fmt.Errorf("check schema: %w", err)
	}
	riverApplied := map[int]bool{}
	if ex, err := rm.ExistingVersions(ctx); err == nil { // fails when River's table is missing
		for _, m := range ex {
			riverApplied[m.Version] = true
		}
	}
	for _, m := range rm.AllVersions() {
		if !riverApplied[m.Version] {
			missing = append(missing, fmt.Sprintf("river %03d_%s", m.Version, m.Name))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d migrations are not applied (%s): %w", len(missing), strings.Join(missing, ", "), ErrSchemaNotReady)
	}
	return nil
}

// ForeignTables counts the tables and views of a database that has no attune schema: those of
// another application. It is 0 for an empty database and for one attune has migrated, and River's
// own tables do not count: a replica booting beside another that is migrating sees them before
// attune's schema.
func ForeignTables(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	var n int
	err := pool.QueryRow(ctx, `
		SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE to_regclass('attune.goose_db_version') IS NULL
		  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%' AND n.nspname <> 'attune'
		  AND NOT (n.nspname = $1 AND c.relname LIKE 'river\_%')`, RiverSchema).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count tables: %w", err)
	}
	return n, nil
}
