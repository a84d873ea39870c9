package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/attune-run/attune/db"
)

// healthz answers 200 while the process serves requests.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "service": "attune"})
}

// readyz answers 200 when the database answers, every migration is applied and River runs;
// 503 naming what is not ready otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "migrations": "ok", "river": "ok"}
	ready := true
	fail := func(name, why string) { checks[name], ready = why, false }
	if err := s.d.DB.Pool.Ping(ctx); err != nil {
		fail("database", "not reachable: "+err.Error())
	} else if ms, err := db.MigrationStatus(ctx, s.d.DB.Pool); err != nil {
		fail("migrations", "unknown: "+err.Error())
	} else {
		for _, m := range ms {
			if !m.Applied {
				fail("migrations", "pending: "+m.Owner+" "+m.Name+"; run `attune migrate`")
				break
			}
		}
	}
	if s.d.RiverStarted == nil || !s.d.RiverStarted() {
		fail("river", "not started")
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]any{"ready": ready, "checks": checks})
}
