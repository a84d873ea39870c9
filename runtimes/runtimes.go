package runtimes

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/attune-run/attune"
)

// Parameter formats a Request may ask for.
const (
	ParamFormatJSON   = attune.ParamsJSON
	ParamFormatDotenv = attune.ParamsDotenv
	ParamFormatYAML   = attune.ParamsYAML
)

// Request is one execution to run.
type Request struct {
	// ExecutionID is exported to the process as ATTUNE_EXECUTION_ID.
	ExecutionID int64
	// Action is what to run. Run uses Ref, PackRef, Runtime, EntryPoint, EntryContent and
	// OutputFormat.
	Action attune.Action
	// Parameters are written to the process's stdin as one document.
	Parameters map[string]any
	// ParameterFormat is the format of the parameter document: "" or ParamFormatJSON for JSON,
	// ParamFormatDotenv for key='value' lines, ParamFormatYAML for a YAML mapping (see the
	// package documentation).
	ParameterFormat string
	// ParameterDelivery is where the process finds that document: "" or attune.DeliveryStdin
	// for its stdin, attune.DeliveryFile for a private temporary file named in
	// ATTUNE_PARAMETER_FILE and removed when the run ends.
	ParameterDelivery string
	// Timeout bounds the run; 0 means attune.DefaultActionTimeoutSec seconds.
	Timeout time.Duration
	// PackConfig is the pack's configuration, given to python-script actions as self.config;
	// may be nil.
	PackConfig map[string]any
	// PackRequirements is the pack's requirements.txt: a python-script action runs in the
	// pack's virtualenv made from it (see Config.VenvDir); "" runs the worker's python.
	PackRequirements string
	// Datastore, when set, serves a python-script action's self.action_service over two pipes
	// (fds 3 and 4 of the child); nil makes action_service raise "not available".
	Datastore Datastore
	// Env holds extra ATTUNE_* context variables (e.g. ATTUNE_WORKER); may be nil. Only ATTUNE_*
	// names are accepted; ATTUNE_EXECUTION_ID, ATTUNE_ACTION and ATTUNE_PACK always come from the
	// fields above. See the package documentation for the whole environment.
	Env map[string]string
	// ParamEnv is the environment a StackStorm shell action's env parameter asks for (shell
	// variable names, never ATTUNE_*), added after the action's own Env; may be nil.
	ParamEnv map[string]string
	// Stdout and Stderr, when set, get a copy of what the process writes on each stream as it
	// writes it, whole (before Config.OutputCap), for live output. They are called from the
	// goroutines that drain the pipes, so they must return quickly; their errors are ignored.
	// The in-process runtimes print nothing and never call them.
	Stdout, Stderr io.Writer
}

// timeout returns the effective timeout of the request.
func (r Request) timeout() time.Duration {
	if r.Timeout <= 0 {
		return attune.DefaultActionTimeoutSec * time.Second
	}
	return r.Timeout
}

// Result is what one run produced.
type Result struct {
	// Status is attune.StatusCompleted, StatusFailed, StatusTimeout or StatusCancelled.
	Status attune.ExecutionStatus
	// ExitCode is the process's exit code; -1 when killed by a signal, timed out, cancelled or
	// never started.
	ExitCode int
	// Stdout and Stderr are the captured output, each cut at Config.OutputCap bytes and then
	// followed by a truncation marker line when cut.
	Stdout, Stderr string
	// StdoutTruncated reports that stdout exceeded Config.OutputCap.
	StdoutTruncated bool
	// StderrTruncated reports that stderr exceeded Config.OutputCap.
	StderrTruncated bool
	// Data is the parsed stdout when Action.OutputFormat is json, yaml or jsonl (see the package
	// documentation); for noop, a copy of the parameters; for http, the response.
	Data any
	// Error says in one line why the run did not complete; "" when it completed.
	Error string
	// Duration is how long the run took.
	Duration time.Duration
}

// Runner runs one action.
type Runner interface {
	// Run runs req and reports what happened. An action that fails, times out or is cancelled is
	// a Result with the matching Status and a nil error; so is a run whose parameters cannot be
	// delivered in the requested format. The error is only for failures to even prepare or start
	// the run: the runtime is unknown, the action has no entry point content, the entry point
	// cannot be written, the interpreter is missing. The Result then still has Status failed,
	// ExitCode -1 and Error set to the error's text, so a caller may record it as it is.
	Run(ctx context.Context, req Request) (Result, error)
}

// Config configures a Set. The zero value is usable.
type Config struct {
	// ShellInterpreter runs shell actions; default "/bin/sh".
	ShellInterpreter string
	// PythonInterpreter runs python actions; default "python3". It is resolved once, on first
	// use, with exec.LookPath and then to the sys.executable that python reports, which sees
	// through wrappers such as pyenv shims; the absolute path is cached for later runs.
	PythonInterpreter string
	// OutputCap is how many bytes of each of stdout and stderr are kept; default 1 MiB.
	OutputCap int
	// KillGrace is the time between SIGTERM and SIGKILL; default 5s.
	KillGrace time.Duration
	// WorkDir is where entry points are materialised; default os.TempDir()/attune-actions-<euid>.
	// It must be owned by the effective user and not writable by its group or others (see
	// PrepareWorkDir); it is created 0700 when missing.
	WorkDir string
	// PipIndexURL is the package index pip installs packs' requirements.txt from, into each
	// pack's virtualenv (<WorkDir>/virtualenvs); "" installs nothing: the virtualenvs see the
	// system's site packages only.
	PipIndexURL string
	// Logger receives debug and warning records; nil discards them. The caller names the
	// component (attune start: component=runtimes).
	Logger *slog.Logger
}

// Defaults of Config.
const (
	DefaultShellInterpreter  = "/bin/sh"
	DefaultPythonInterpreter = "python3"
	DefaultOutputCap         = 1 << 20
	DefaultKillGrace         = 5 * time.Second
)

// withDefaults returns cfg with every unset field set to its default.
func (cfg Config) withDefaults() Config {
	if cfg.ShellInterpreter == "" {
		cfg.ShellInterpreter = DefaultShellInterpreter
	}
	if cfg.PythonInterpreter == "" {
		cfg.PythonInterpreter = DefaultPythonInterpreter
	}
	if cfg.OutputCap <= 0 {
		cfg.OutputCap = DefaultOutputCap
	}
	if cfg.KillGrace <= 0 {
		cfg.KillGrace = DefaultKillGrace
	}
	if cfg.WorkDir == "" {
		cfg.WorkDir = filepath.Join(os.TempDir(), "attune-actions-"+strconv.Itoa(os.Geteuid()))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return cfg
}

// Set holds one Runner per runtime name.
type Set struct {
	runners map[string]Runner
	venvs   *venvs
}

// New returns a Set serving attune.RuntimeShell, RuntimePython, RuntimeNoop, RuntimeHTTP and
// StackStorm's runners RuntimeShellCmd, RuntimeShellScript and RuntimePythonScript (st2.go).
// It does no I/O: the work directory is created and the python interpreter resolved on first
// use.
func New(cfg Config) *Set {
	cfg = cfg.withDefaults()
	entries := &entryPoints{dir: cfg.WorkDir, log: cfg.Logger}
	shell := &interpreter{name: cfg.ShellInterpreter}
	python := &interpreter{name: cfg.PythonInterpreter, probe: pythonProbe}
	venvs := &venvs{cfg: cfg, python: python}
	st2 := func(kind string) Runner {
		return &st2Runner{cfg: cfg, entries: entries, kind: kind, shell: shell, python: python, venvs: venvs}
	}
	return &Set{venvs: venvs, runners: map[string]Runner{
		attune.RuntimeShellCmd:     st2(attune.RuntimeShellCmd),
		attune.RuntimeShellScript:  st2(attune.RuntimeShellScript),
		attune.RuntimePythonScript: st2(attune.RuntimePythonScript),
		attune.RuntimeShell: &processRunner{
			cfg: cfg, entries: entries,
			interp: &interpreter{name: cfg.ShellInterpreter},
		},
		attune.RuntimePython: &processRunner{
			cfg: cfg, entries: entries,
			interp: &interpreter{name: cfg.PythonInterpreter, probe: pythonProbe},
			args:   []string{"-u"},
		},
		attune.RuntimeNoop: noopRunner{},
		attune.RuntimeHTTP: newHTTPRunner(cfg),
	}}
}

// Add serves runtime name with r, replacing any runner of that name. Runtimes that need more
// than this package has (the datastore's kv, which needs the database) are added this way,
// before the Set is used.
func (s *Set) Add(name string, r Runner) {
	s.runners[name] = r
}

// Get returns the runner for a runtime name, matched exactly. An unknown name is an error
// wrapping attune.ErrNotFound that names the runtime and lists the known ones.
func (s *Set) Get(name string) (Runner, error) {
	if r, ok := s.runners[name]; ok {
		return r, nil
	}
	return nil, fmt.Errorf("runtime %q: %w; this worker runs %s",
		name, attune.ErrNotFound, strings.Join(s.names(), ", "))
}

// Run gets the runner for req.Action.Runtime and runs req with it. An unknown runtime is an
// error, with a failed Result as described on Runner.
func (s *Set) Run(ctx context.Context, req Request) (Result, error) {
	r, err := s.Get(req.Action.Runtime)
	if err != nil {
		err = fmt.Errorf("run action %q: %w", req.Action.Ref, err)
		return failure(err.Error(), 0), err
	}
	return r.Run(ctx, req)
}

// names returns the known runtime names, sorted.
func (s *Set) names() []string {
	names := make([]string, 0, len(s.runners))
	for name := range s.runners {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// failure returns a failed Result for a run that did not start.
func failure(msg string, d time.Duration) Result {
	return Result{Status: attune.StatusFailed, ExitCode: -1, Error: msg, Duration: d}
}
