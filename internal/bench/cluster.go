package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/db/embedded"
)

// templateDB is the migrated database, with the core and bench packs registered, that every
// phase copies its own database from.
const templateDB = "bench_template"

// cluster is the bench's throwaway embedded PostgreSQL: its own data directory under the temp
// directory, removed when the bench ends. It never touches the user's ./.attune.
type cluster struct {
	dir   string // removed by close
	h     *embedded.Handle
	admin string // URL of the maintenance database "postgres"
	log   *slog.Logger
	// postmaster is the server's pid, whose process tree is the PostgreSQL CPU the bench counts.
	postmaster int
	// statements says pg_stat_statements is loaded: the statement counts need it.
	statements bool
}

// startCluster initialises and starts the throwaway cluster with track_commit_timestamp on (the
// bench reads commit times from the rows) and pg_stat_statements loaded when the server has it
// (the statement counts come from it; when statements is set, it must). Both need a restart, so
// the cluster is started, configured and started again.
func startCluster(ctx context.Context, log *slog.Logger, statements bool) (*cluster, error) {
	dir, err := os.MkdirTemp("", "attune-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench data directory: %w", err)
	}
	// As root the cluster runs as the postgres user, which must reach the data directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("bench data directory %s: %w", dir, err)
	}
	c := &cluster{dir: dir, log: log}
	opts := embedded.Options{DataDir: filepath.Join(dir, "data"), Logger: log}
	if c.h, err = embedded.Acquire(ctx, opts); err != nil {
		c.close()
		return nil, err
	}
	c.admin = withDatabase(c.h.URL(), "postgres")
	settings := []string{"ALTER SYSTEM SET track_commit_timestamp = on"}
	if c.statements, err = c.available(ctx, "pg_stat_statements"); err != nil {
		c.close()
		return nil, err
	}
	if statements && !c.statements {
		c.close()
		return nil, errors.New("--statements needs the pg_stat_statements extension, which this PostgreSQL lacks: install its contrib package (postgresql-contrib on older Debian releases) or leave out --statements")
	}
	if c.statements {
		settings = append(settings, "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
	}
	if err := c.exec(ctx, "postgres", settings...); err != nil {
		c.close()
		return nil, err
	}
	// Restart: release stops the cluster (we are its only user); acquire starts it again.
	if err := c.h.Release(ctx); err != nil {
		c.h = nil
		c.close()
		return nil, err
	}
	if c.h, err = embedded.Acquire(ctx, opts); err != nil {
		c.close()
		return nil, err
	}
	c.admin = withDatabase(c.h.URL(), "postgres")
	var on string
	if err := c.query(ctx, "SHOW track_commit_timestamp", &on); err != nil || on != "on" {
		c.close()
		return nil, fmt.Errorf("track_commit_timestamp is %q after the restart (%v): see %s", on, err, filepath.Join(opts.DataDir, "pg.log"))
	}
	if c.statements {
		if err := c.exec(ctx, "postgres", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
			c.close()
			return nil, err
		}
	}
	if c.postmaster, err = postmasterPID(filepath.Join(opts.DataDir, "pg")); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// postmasterPID reads the server's pid from line 1 of pgDir/postmaster.pid.
func postmasterPID(pgDir string) (int, error) {
	path := filepath.Join(pgDir, "postmaster.pid")
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("bench cluster pid: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return 0, fmt.Errorf("bench cluster pid on line 1 of %s: %w", path, err)
	}
	return pid, nil
}

// available reports whether an extension can be installed.
func (c *cluster) available(ctx context.Context, ext string) (bool, error) {
	conn, err := pgx.Connect(ctx, c.admin)
	if err != nil {
		return false, fmt.Errorf("connect to bench cluster: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var ok bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = $1)", ext).Scan(&ok)
	return ok, err
}

// url returns the URL of database name on the cluster.
func (c *cluster) url(name string) string { return withDatabase(c.h.URL(), name) }

// prepareTemplate creates and migrates the template database and hands it to fill (which
// registers packs), then closes every connection to it so it can be copied.
func (c *cluster) prepareTemplate(ctx context.Context, fill func(url string) error) error {
	if err := c.exec(ctx, "postgres", "CREATE DATABASE "+templateDB); err != nil {
		return err
	}
	u := c.url(templateDB)
	d, err := db.Open(ctx, u, db.Options{MaxConns: 4})
	if err != nil {
		return err
	}
	_, err = db.Migrate(ctx, d.Pool, nil)
	d.Close()
	if err != nil {
		return fmt.Errorf("migrate %s: %w", templateDB, err)
	}
	return fill(u)
}

// newDatabase creates database name as a copy of from and returns its URL.
func (c *cluster) newDatabase(ctx context.Context, name, from string) (string, error) {
	err := c.exec(ctx, "postgres", fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{from}.Sanitize()))
	if err != nil {
		return "", err
	}
	return c.url(name), nil
}

// dropDatabase drops a phase's database, closing whatever is still connected to it.
func (c *cluster) dropDatabase(ctx context.Context, name string) error {
	return c.exec(ctx, "postgres", fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", pgx.Identifier{name}.Sanitize()))
}

// exec runs statements, one by one, on database dbname as the superuser.
func (c *cluster) exec(ctx context.Context, dbname string, stmts ...string) error {
	conn, err := pgx.Connect(ctx, c.url(dbname))
	if err != nil {
		return fmt.Errorf("connect to bench database %s: %w", dbname, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("bench database %s: %s: %w", dbname, s, err)
		}
	}
	return nil
}

// query scans one row of sql, run on the maintenance database.
func (c *cluster) query(ctx context.Context, sql string, dest ...any) error {
	conn, err := pgx.Connect(ctx, c.admin)
	if err != nil {
		return fmt.Errorf("connect to bench cluster: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.QueryRow(ctx, sql).Scan(dest...)
}

// close stops the cluster and removes its directory.
func (c *cluster) close() {
	if c.h != nil {
		if err := c.h.Release(context.Background()); err != nil {
			c.log.Warn("stop bench postgres", "error", err)
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		c.log.Warn("remove bench data directory", "dir", c.dir, "error", err)
	}
}

// withDatabase returns raw with its path set to database name.
func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + strings.TrimPrefix(name, "/")
	return u.String()
}
