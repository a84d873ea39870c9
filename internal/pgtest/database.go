package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	// templatePrefix starts the name of every template database.
	templatePrefix = "attune_tpl_"
	// templateReady is the COMMENT a template gets once migrate has succeeded on it; a template
	// without it is half-built and is rebuilt.
	templateReady = "pgtest template: ready"
	// databaseTimeout bounds creating one database, including building its template.
	databaseTimeout = 5 * time.Minute
	// cloneAttempts is how often CREATE DATABASE ... TEMPLATE is tried while the template is in use.
	cloneAttempts = 10
)

// readyTemplates remembers the templates this process has seen ready, to skip the advisory lock.
var readyTemplates sync.Map

// NewDatabase creates a fresh database for one test and returns its URL; it is dropped in
// t.Cleanup. With migrate nil the database is empty. Otherwise it is cloned from a template
// database "attune_tpl_<templateKey>" that is built once per server by running migrate on it.
// templateKey must change whenever what migrate does changes (a hash of the migration files
// does), since a finished template is reused by every later test binary using the same server.
// In -short mode without ATTUNE_TEST_DATABASE_URL it skips the test.
func NewDatabase(t testing.TB, templateKey string, migrate func(ctx context.Context, url string) error) string {
	t.Helper()
	admin := AdminURL()
	if admin == "" && testing.Short() {
		t.Skip("needs PostgreSQL; skipped in -short mode")
	}
	if admin == "" {
		t.Fatalf("pgtest: no PostgreSQL server: call os.Exit(pgtest.Main(m)) from TestMain, or set %s", EnvURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), databaseTimeout)
	defer cancel()

	template := ""
	if migrate != nil {
		template = templateName(templateKey)
		if err := ensureTemplate(ctx, admin, template, migrate); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
	}
	name := "attune_test_" + randomHex(8)
	if err := createDatabase(ctx, admin, name, template); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := dropDatabase(ctx, admin, name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	u, err := databaseURL(admin, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

// ensureTemplate builds the template database unless a ready one exists. It works under a
// pg_advisory_lock keyed on the template name, so test binaries sharing a server build it once.
func ensureTemplate(ctx context.Context, admin, template string, migrate func(context.Context, string) error) error {
	if _, ok := readyTemplates.Load(template); ok {
		return nil
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to test server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx)) // also releases the advisory lock

	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", advisoryKey(template)); err != nil {
		return fmt.Errorf("lock template %s: %w", template, err)
	}
	var comment *string
	err = conn.QueryRow(ctx, "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", template).Scan(&comment)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("look up template %s: %w", template, err)
	}
	if comment == nil || *comment != templateReady {
		if err := buildTemplate(ctx, conn, admin, template, migrate); err != nil {
			return err
		}
	}
	readyTemplates.Store(template, true)
	return nil
}

// buildTemplate (re)creates the template, runs migrate on it, closes every connection left on it
// (CREATE DATABASE ... TEMPLATE refuses while anyone is connected) and marks it ready.
func buildTemplate(ctx context.Context, conn *pgx.Conn, admin, template string, migrate func(context.Context, string) error) error {
	ident := pgx.Identifier{template}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop half-built template %s: %w", template, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return fmt.Errorf("create template %s: %w", template, err)
	}
	u, err := databaseURL(admin, template)
	if err != nil {
		return err
	}
	if err := migrate(ctx, u); err != nil {
		return fmt.Errorf("migrate template %s: %w", template, err)
	}
	_, err = conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", template)
	if err != nil {
		return fmt.Errorf("disconnect from template %s: %w", template, err)
	}
	if _, err := conn.Exec(ctx, "COMMENT ON DATABASE "+ident+" IS '"+templateReady+"'"); err != nil {
		return fmt.Errorf("mark template %s ready: %w", template, err)
	}
	return nil
}

// createDatabase creates name, cloned from template when it is not empty. A clone is retried
// while the template "is being accessed by other users" (another clone's migrate may still be
// disconnecting).
func createDatabase(ctx context.Context, admin, name, template string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to test server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	for attempt := 1; ; attempt++ {
		_, err = conn.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if err == nil || attempt == cloneAttempts || !errors.As(err, &pgErr) || pgErr.Code != "55006" {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("create database %s: %w", name, context.Cause(ctx))
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		}
	}
	if err != nil {
		return fmt.Errorf("create database %s (template %q): %w", name, template, err)
	}
	return nil
}

// dropDatabase drops name, closing connections a test left open.
func dropDatabase(ctx context.Context, admin, name string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to test server to drop %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// databaseURL returns admin pointed at database name. admin is a postgres:// or postgresql://
// URL, or a key=value connection string.
func databaseURL(admin, name string) (string, error) {
	if strings.HasPrefix(admin, "postgres://") || strings.HasPrefix(admin, "postgresql://") {
		u, err := url.Parse(admin)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", EnvURL, err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	return admin + " dbname=" + name, nil
}

// templateName turns a key into a valid database name "attune_tpl_<key>": lower case letters,
// digits and underscores, at most 63 bytes (a hash stands in for the tail of a long key).
func templateName(key string) string {
	if key == "" {
		key = "default"
	}
	clean := strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '_':
			return r
		case 'A' <= r && r <= 'Z':
			return r + ('a' - 'A')
		default:
			return '_'
		}
	}, key)
	const maxLen = 63 - len(templatePrefix)
	if len(clean) > maxLen || clean != strings.ToLower(key) {
		sum := sha256.Sum256([]byte(key))
		suffix := "_" + hex.EncodeToString(sum[:4])
		clean = clean[:min(len(clean), maxLen-len(suffix))] + suffix
	}
	return templatePrefix + clean
}

// advisoryKey is the pg_advisory_lock key guarding the build of template.
func advisoryKey(template string) int64 {
	sum := sha256.Sum256([]byte("pgtest:" + template))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// randomHex returns 2n random hex characters.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on supported platforms
	return hex.EncodeToString(b)
}
