package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/attune-run/attune/packs"
)

// Config says what to run.
type Config struct {
	// Quick runs a smaller version, in under a minute, for a smoke check.
	Quick bool
	// Events is how many events each throughput run drains, and the size of the scale-out and
	// memory backlogs; 0 means 20,000 (quick: 2,000).
	Events int
	// ShellEvents is how many events the shell throughput run drains; 0 means a quarter of
	// Events.
	ShellEvents int
	// Webhooks is how many signed webhook deliveries (and HTTP baseline requests) the webhook
	// phase posts; 0 means 5,000 (quick: 1,000).
	Webhooks int
	// APIRuns is how many POST /api/v1/executions the api_run phase makes; 0 means 500 (quick:
	// 100).
	APIRuns int
	// Settings are attune's River and pool settings, for the River baseline.
	Settings Settings
	// Start builds an attune replica in this process, wired as `attune start` wires one.
	Start StartFunc
	// Binary is the attune binary, run as `attune start --roles workers` for the scale-out.
	Binary string
	// Statements prints each phase's top statements from pg_stat_statements to Progress, with
	// their calls per execution: the round trips behind the figures. The bench loads
	// pg_stat_statements whenever the server has it (the statement counts come from it); with
	// Statements set, a server without it is an error.
	Statements bool
	// Only, when not empty, runs just the named phases (see Phases), for tuning one figure.
	Only []string
	// Progress receives one line per phase as it ends; nil discards them.
	Progress io.Writer
	// Log receives the cluster's records; nil discards them.
	Log *slog.Logger
}

// Phases are the bench's phases, in the order they run.
var Phases = []string{"b3", "b1", "b2", "noop_throughput", "shell_throughput", "noop_latency",
	"shell_latency", "timers", "policy_admit", "workflow_transition", "with_items", "scaleout", "webhook", "api_run"}

// plan is the size of each phase.
type plan struct {
	events, shellEvents int
	baseline            time.Duration // B2, B3
	latency             time.Duration // each of noop and shell
	latencyRate         int           // events per second
	timers              int
	timerWindow         time.Duration
	replicas            []int
	scaleWindow         time.Duration // each scale-out run's measured window
	webhooks            int           // signed webhook deliveries (and HTTP baseline requests)
	apiRuns             int           // sequential POST /api/v1/executions of core.noop
	policyRuns          int           // executions of the policy phase, all queued at once
	seqWorkflows        int           // sequential workflows of the workflow_transition phase
	items               int           // items of the with_items phase
}

func (c Config) plan() plan {
	p := plan{events: 20000, baseline: 4 * time.Second, latency: 30 * time.Second, latencyRate: 100,
		timers: 50, timerWindow: 30 * time.Second, replicas: []int{1, 2, 4}, scaleWindow: 8 * time.Second,
		webhooks: 5000, apiRuns: 500, policyRuns: 500, seqWorkflows: 10, items: 1000}
	if c.Quick {
		p.events, p.baseline, p.latency, p.timerWindow, p.scaleWindow = 2000, 1500*time.Millisecond, 4*time.Second, 4*time.Second, 2*time.Second
		p.webhooks, p.apiRuns, p.policyRuns = 1000, 100, 100
		p.seqWorkflows, p.items = 3, 200
	}
	if c.Events > 0 {
		p.events = c.Events
	}
	if c.Webhooks > 0 {
		p.webhooks = c.Webhooks
	}
	if c.APIRuns > 0 {
		p.apiRuns = c.APIRuns
	}
	// The shell run spawns processes at a few hundred a second: a quarter of the events keeps
	// the whole bench under five minutes and still measures a steady rate.
	p.shellEvents = max(p.events/4, 1)
	if c.ShellEvents > 0 {
		p.shellEvents = c.ShellEvents
	}
	return p
}

// Run runs every phase on a throwaway cluster and returns the figures.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Start == nil || cfg.Binary == "" {
		return nil, errors.New("bench: Config.Start and Config.Binary are required")
	}
	for _, o := range cfg.Only {
		if !slices.Contains(Phases, o) {
			return nil, fmt.Errorf("bench: unknown phase %q (phases: %v)", o, Phases)
		}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	p := cfg.plan()
	b := &runner{cfg: cfg, plan: p, began: time.Now(), r: &Report{Details: Details{
		Quick: cfg.Quick, Events: p.events, ShellEvents: p.shellEvents, Settings: cfg.Settings, TimerRules: p.timers,
		Ran: map[string]bool{},
	}}}
	b.say("starting a throwaway PostgreSQL cluster")
	cl, err := startCluster(ctx, cfg.Log, cfg.Statements)
	if err != nil {
		return nil, err
	}
	defer cl.close()
	b.cl = cl
	if err := b.prepare(ctx); err != nil {
		return nil, err
	}
	run := map[string]func(context.Context) error{
		"b3": b.pgFloor, "b1": b.riverFloor, "b2": b.spawnFloor,
		"noop_throughput": b.noopThroughput, "shell_throughput": b.shellThroughput,
		"noop_latency": b.noopLatency, "shell_latency": b.shellLatency,
		"timers": b.timers, "policy_admit": b.policyAdmit, "scaleout": b.scaleOut,
		"workflow_transition": b.workflowTransition, "with_items": b.withItems,
		"webhook": b.webhook, "api_run": b.apiRun,
	}
	for _, name := range Phases {
		if len(cfg.Only) > 0 && !slices.Contains(cfg.Only, name) {
			continue
		}
		if err := run[name](ctx); err != nil {
			return nil, fmt.Errorf("bench phase %s: %w", name, err)
		}
		b.r.Details.Ran[name] = true
	}
	b.r.Details.Took = time.Since(b.began)
	return b.r, nil
}

// runner carries what every phase needs.
type runner struct {
	cfg   Config
	plan  plan
	cl    *cluster
	r     *Report
	began time.Time
}

// prepare records the server version, installs pg_stat_statements when asked and builds the
// template database.
func (b *runner) prepare(ctx context.Context) error {
	if err := b.cl.query(ctx, "SELECT current_setting('server_version')", &b.r.Details.PGVersion); err != nil {
		return err
	}
	b.r.Details.PGVersion = "PostgreSQL " + b.r.Details.PGVersion
	if b.cfg.Statements {
		if err := b.cl.exec(ctx, "postgres",
			"ALTER SYSTEM SET pg_stat_statements.track_planning = on", "SELECT pg_reload_conf()"); err != nil {
			return err
		}
	}
	return b.cl.prepareTemplate(ctx, func(url string) error { return registerPacks(ctx, b.cfg.Start, url) })
}

// say writes one progress line.
func (b *runner) say(format string, args ...any) {
	if b.cfg.Progress != nil {
		fmt.Fprintf(b.cfg.Progress, "[%5.1fs] %s\n", time.Since(b.began).Seconds(), fmt.Sprintf(format, args...))
	}
}

// phaseDB is the name of the database that onCopy makes for phase name.
func phaseDB(name string) string { return "bench_" + name }

// onCopy runs fn on a fresh copy (named phaseDB(name)) of database from, then drops the copy.
// pg_stat_statements starts empty for each phase; with Config.Statements the top statements fn
// caused are printed.
func (b *runner) onCopy(ctx context.Context, name, from string, fn func(url string) error) error {
	dbname := phaseDB(name)
	url, err := b.cl.newDatabase(ctx, dbname, from)
	if err != nil {
		return err
	}
	if b.cl.statements {
		if err := b.cl.exec(ctx, "postgres", "SELECT pg_stat_statements_reset()"); err != nil {
			return err
		}
	}
	if err := fn(url); err != nil {
		return err
	}
	if b.cfg.Statements {
		if err := b.cl.topStatements(ctx, b.cfg.Progress, dbname); err != nil {
			return err
		}
	}
	return b.cl.dropDatabase(ctx, dbname)
}

// registerPacks registers the core pack and the bench pack in the template database.
func registerPacks(ctx context.Context, start StartFunc, url string) error {
	r, err := start(ctx, url, nil)
	if err != nil {
		return err
	}
	defer r.Stop()
	core, err := packs.Core()
	if err != nil {
		return fmt.Errorf("core pack: %w", err)
	}
	if _, err := r.Registry.RegisterPack(ctx, core); err != nil {
		return fmt.Errorf("register the core pack: %w", err)
	}
	if _, err := r.Registry.RegisterPack(ctx, eventPack()); err != nil {
		return fmt.Errorf("register the bench pack: %w", err)
	}
	return nil
}
