package httpapi

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"riverqueue.com/riverui"

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/registry"
	"github.com/attune-run/attune/secrets"
)

// Config is the HTTP server's configuration (http.* and metrics.* in attune's).
type Config struct {
	Listen  string // host:port
	MaxBody int64  // bytes; larger request bodies get 413
	// Timeouts of each phase of a request; see net/http.Server.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// MetricsPublic serves /metrics without a key.
	MetricsPublic bool
	// MetricsRefresh is how long the database-derived metrics are cached; 0 means 15 s.
	MetricsRefresh time.Duration
}

// Deps are what the handlers work with.
type Deps struct {
	DB       *db.DB
	Pipeline *jobs.Pipeline
	Registry *registry.Registry // rule enable/disable
	Secrets  *secrets.Box       // opens webhook secrets; nil when secrets.key is unset
	// Hub is the process's LISTEN connection, which the streams follow; without it the output
	// stream polls and /stream/v1/stream answers 503.
	Hub *db.Hub
	// RiverStarted reports whether this replica's River client is running (for /readyz).
	RiverStarted func() bool
	Log          *slog.Logger
}

// Server is attune's HTTP server.
type Server struct {
	cfg     Config
	d       Deps
	log     *slog.Logger
	handler http.Handler
	srv     *http.Server
	ln      net.Listener
	metrics *metrics
	riverUI *riverui.Handler // nil when it could not be built

	closing   chan struct{} // closed on shutdown: the streams send a final event and end
	closeOnce sync.Once
}

// New builds the server and its routes; Listen and Serve run it.
func New(cfg Config, d Deps) *Server {
	s := &Server{cfg: cfg, d: d, log: d.Log.With("component", "http"), closing: make(chan struct{})}
	s.metrics = newMetrics(d.DB, s.log, cfg.MetricsRefresh)
	if d.Pipeline != nil && d.Pipeline.River != nil {
		ui, err := riverui.NewHandler(&riverui.HandlerOpts{
			Endpoints: riverui.NewEndpoints(d.Pipeline.River, nil),
			Logger:    s.log.With("component", "riverui"),
			Prefix:    "/riverui",
		})
		if err != nil {
			s.log.Warn("the River UI is not served", "error", err)
		} else {
			s.riverUI = ui
		}
	}
	s.handler = s.routes()
	return s
}

// Handler is the server's whole handler, for tests.
func (s *Server) Handler() http.Handler { return s.handler }

// ErrAddrInUse is returned by Listen when another process serves the address.
var ErrAddrInUse = errors.New("address already in use")

// Listen binds the configured address. It returns an error wrapping ErrAddrInUse when another
// process has it.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("http.listen %s: %w", s.cfg.Listen, ErrAddrInUse)
		}
		return fmt.Errorf("http.listen %s: %w", s.cfg.Listen, err)
	}
	s.ln = ln
	return nil
}

// Addr is the address the server listens on, once Listen succeeded.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves requests on the bound address until Shutdown, in the background.
func (s *Server) Serve(ctx context.Context) {
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.srv.RegisterOnShutdown(s.closeStreams)
	s.startRiverUI(ctx)
	go func() {
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "error", err)
		}
	}()
	s.log.Info("http api listening", "addr", s.Addr())
}

// Shutdown stops accepting connections, ends the streams with a final event, and waits for
// in-flight requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeStreams() // also for a handler served by another server (tests)
	if s.srv == nil {
		return nil
	}
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// routes builds the mux with Go 1.22 patterns, wrapped in the body cap and the metrics.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, s.counted(pattern, h))
	}
	key := s.requireKey
	handle("GET /healthz", s.healthz)
	handle("GET /api/v1/openapi.json", s.openapi)
	handle("GET /readyz", s.readyz)
	if s.cfg.MetricsPublic {
		handle("GET /metrics", s.metrics.serve)
	} else {
		handle("GET /metrics", key(s.metrics.serve))
	}
	handle("POST /api/v1/executions", key(s.createExecution))
	handle("GET /api/v1/executions", key(s.listExecutions))
	handle("GET /api/v1/executions/{id}", key(s.getExecution))
	handle("DELETE /api/v1/executions/{id}", key(s.cancelExecution))
	handle("POST /api/v1/executions/{id}/cancel", key(s.cancelExecution))
	handle("POST /api/v1/executions/{id}/pause", key(s.pauseExecution))
	handle("POST /api/v1/executions/{id}/resume", key(s.resumeExecution))
	handle("POST /api/v1/executions/{id}/re_run", key(s.rerunExecution))
	handle("GET /api/v1/executions/{id}/output", key(s.getOutput))
	handle("GET /stream/v1/executions/{id}/output", key(s.streamOutput))
	handle("GET /stream/v1/stream", key(s.streamEvents))
	handle("GET /api/v1/keys", key(s.listKeys))
	handle("GET /api/v1/keys/{name}", key(s.getKey))
	handle("PUT /api/v1/keys/{name}", key(s.putKey))
	handle("DELETE /api/v1/keys/{name}", key(s.deleteKey))
	handle("POST /api/v1/events", key(s.createEvent))
	handle("GET /api/v1/events", key(s.listEvents))
	handle("GET /api/v1/events/{id}", key(s.getEvent))
	handle("GET /api/v1/rules", key(s.listRules))
	handle("GET /api/v1/rules/{ref}", key(s.getRule))
	handle("PUT /api/v1/rules/{ref}", key(s.putRule))
	handle("GET /api/v1/actions", key(s.listActions))
	handle("GET /api/v1/actions/{ref}", key(s.getAction))
	handle("GET /api/v1/packs", key(s.listPacks))
	handle("GET /api/v1/inquiries", key(s.listInquiries))
	handle("GET /api/v1/inquiries/{id}", key(s.getInquiry))
	handle("PUT /api/v1/inquiries/{id}", key(s.respondInquiry))
	handle("POST /api/v1/webhooks/{name}", s.webhook) // verifies per webhook
	if s.riverUI != nil {
		// Behind the same keys (a browser sends HTTP Basic); mutating requests from another
		// origin are refused (Sec-Fetch-Site / Origin against Host).
		csrf := http.NewCrossOriginProtection()
		handle("/riverui/", key(csrf.Handler(s.riverUI).ServeHTTP))
	}
	handle("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, problem(http.StatusNotFound, "no route %s %s; the API is under /api/v1", r.Method, r.URL.Path))
	})
	return s.capped(mux)
}

// capped limits every request body to MaxBody.
func (s *Server) capped(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBody {
			writeProblem(w, problem(http.StatusRequestEntityTooLarge,
				"the request body is %d bytes, more than %d (http.max_body); send less", r.ContentLength, s.cfg.MaxBody))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// counted counts requests by route pattern and status code, and recovers from a panic.
func (s *Server) counted(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("http handler panicked", "route", route, "panic", fmt.Sprint(v))
				if sw.code == 0 {
					writeProblem(sw, problem(http.StatusInternalServerError, "internal error; the server log has the details"))
				}
			}
			s.metrics.request(route, sw.code)
		}()
		h.ServeHTTP(sw, r)
	})
}

// internal answers 500 for an unexpected error, logging it (never the request's credentials).
func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("http request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	writeProblem(w, problem(http.StatusInternalServerError, "internal error; the server log has the details"))
}

// startRiverUI starts the River UI's background services until ctx ends.
func (s *Server) startRiverUI(ctx context.Context) {
	if s.riverUI == nil {
		return
	}
	if err := s.riverUI.Start(ctx); err != nil {
		s.log.Warn("the River UI did not start", "error", err)
	}
}

// openAPI is the OpenAPI 3.1 document of the API, served at /api/v1/openapi.json. A test
// checks every endpoint's real responses against it.
//
//go:embed openapi.json
var openAPI []byte

// openapi serves the OpenAPI document (no key: it describes, it reveals nothing).
func (s *Server) openapi(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}
