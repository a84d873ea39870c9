package pgtest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/attune-run/attune/db/embedded"
)

// Server is a throwaway PostgreSQL cluster in a temporary directory.
type Server struct {
	dir    string
	handle *embedded.Handle

	stopOnce sync.Once
	stopErr  error
}

// StartServer initialises and starts a throwaway cluster in a new temporary directory. The
// directory is made searchable (0755) so the postgres user can reach it when running as root.
// logger may be nil.
func StartServer(ctx context.Context, logger *slog.Logger) (*Server, error) {
	dir, err := os.MkdirTemp("", "attune-pgtest-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir for a test cluster: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("chmod 0755 %s: %w", dir, err)
	}
	h, err := embedded.Acquire(ctx, embedded.Options{DataDir: dir, Logger: logger})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start test cluster in %s: %w", dir, err)
	}
	return &Server{dir: dir, handle: h}, nil
}

// URL returns the admin URL of the server: the superuser, database "attune", over the socket.
func (s *Server) URL() string { return s.handle.URL() }

// Stop stops the server and removes its directory; when the server cannot be stopped, the
// directory stays. Later calls return the first call's error.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		if err := s.handle.Release(ctx); err != nil {
			// Keep the directory: postgres may still run from it.
			s.stopErr = fmt.Errorf("stop test cluster in %s (left in place): %w", s.dir, err)
			return
		}
		if err := os.RemoveAll(s.dir); err != nil {
			s.stopErr = fmt.Errorf("remove test cluster %s: %w", s.dir, err)
		}
	})
	return s.stopErr
}
