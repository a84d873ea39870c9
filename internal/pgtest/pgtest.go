// Package pgtest gives tests a real PostgreSQL that they start themselves.
//
// A package whose tests need Postgres calls Main from its TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// and each test asks for its own database:
//
//	url := pgtest.NewDatabase(t, migrationsHash, db.Migrate)
//
// With ATTUNE_TEST_DATABASE_URL set (an admin URL of a running server) every test binary uses that
// server; `go run ./internal/pgtest/withpg -- go test ./...` starts one throwaway cluster for a
// whole run and sets it. Without it, each test binary starts its own throwaway cluster from the
// PostgreSQL server binaries installed on the machine (see package embedded) and removes it when
// its tests are done.
package pgtest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EnvURL names the environment variable holding the admin URL of a running server to test
// against, instead of starting one.
const EnvURL = "ATTUNE_TEST_DATABASE_URL"

// startTimeout bounds initialising and starting a throwaway cluster.
const startTimeout = 2 * time.Minute

var (
	adminMu  sync.RWMutex
	adminURL string
)

// Main is called from TestMain of every package whose tests need Postgres:
// os.Exit(pgtest.Main(m)). If ATTUNE_TEST_DATABASE_URL is set (an admin URL of a running server),
// it uses that server. Otherwise it starts a throwaway cluster for this test binary and stops and
// removes it after m.Run(), or when the binary gets SIGINT or SIGTERM; in -short mode it starts
// none, and NewDatabase skips the tests that ask for a database.
func Main(m *testing.M) int {
	flag.Parse() // for testing.Short
	if url := os.Getenv(EnvURL); url != "" {
		setAdminURL(url)
		return m.Run()
	}
	if testing.Short() {
		return m.Run() // NewDatabase skips its tests
	}

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	srv, err := StartServer(ctx, nil)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n(set %s to test against a running server instead)\n", err, EnvURL)
		return 1
	}
	setAdminURL(srv.URL())

	// postgres runs in its own process group, so a Ctrl-C does not stop it: do it here.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig, ok := <-sigs
		if !ok {
			return
		}
		stopServer(srv)
		os.Exit(128 + int(sig.(syscall.Signal)))
	}()

	code := m.Run()
	signal.Stop(sigs)
	close(sigs)
	stopServer(srv)
	return code
}

// stopServer stops srv and reports a failure on stderr, where a test binary's output goes.
func stopServer(srv *Server) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := srv.Stop(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
	}
}

// AdminURL returns the server's admin URL (for tests that need it): ATTUNE_TEST_DATABASE_URL or
// the throwaway cluster Main started. It is empty when neither is there.
func AdminURL() string {
	adminMu.RLock()
	defer adminMu.RUnlock()
	if adminURL == "" {
		return os.Getenv(EnvURL)
	}
	return adminURL
}

func setAdminURL(url string) {
	adminMu.Lock()
	defer adminMu.Unlock()
	adminURL = url
}
