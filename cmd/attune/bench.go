package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune/internal/bench"
	"github.com/attune-run/attune/secrets"
)

func (c *cli) benchCmd() *cobra.Command {
	var cfg bench.Config
	var jsonFile, cpuProfile string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure throughput, latency and timer precision against raw River, process spawn and PostgreSQL",
		Long: `Measure attune side by side with what it is built on, in one run on a throwaway embedded
PostgreSQL cluster (never ./.attune): raw River draining no-op jobs (B1), /bin/sh -c true per
second (B2) and single-row insert transactions (B3); then attune's pipeline throughput (noop and
shell; until every job the run inserted has finished) with what one execution costs (CPU ms of
attune and of PostgreSQL, statements, commits, River jobs), latency at a steady 100 events/s, the
precision of 50 one-second timers, throughput and CPU per execution with 1, 2 and 4 worker
replica processes, and a worker's peak RSS; then the HTTP API on loopback: GitHub-signed webhook
deliveries acknowledged per second from 20 clients (against a bare net/http handler answering
202) and their latency, and POST /api/v1/executions of core.noop until terminal; then workflows:
the transition between two tasks of a sequential workflow of 20 core.noop tasks, and a with-items
of 1,000 core.noop items at concurrency 50 (quick: 200), start to end. Prints one
table; --json writes the same figures under stable keys. Takes about 5 minutes; --quick about one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			return c.bench(cmd.Context(), cfg, jsonFile)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&cfg.Quick, "quick", false, "a smaller run, under a minute, for a smoke check")
	f.StringVar(&jsonFile, "json", "", "also write the figures as JSON to this file")
	f.IntVar(&cfg.Events, "events", 0, "events per throughput run and backlog size (default 20000, quick 2000)")
	f.IntVar(&cfg.ShellEvents, "shell-events", 0, "events of the shell throughput run (default: a quarter of --events)")
	f.IntVar(&cfg.Webhooks, "webhooks", 0, "signed webhook deliveries of the webhook phase, and requests of its HTTP baseline (default 5000, quick 1000)")
	f.IntVar(&cfg.APIRuns, "api-runs", 0, "POST /api/v1/executions of core.noop in the api_run phase (default 500, quick 100)")
	f.BoolVar(&cfg.Statements, "statements", false, "print each phase's top statements from pg_stat_statements (an error if the server lacks it)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of this process (the in-process replicas) for go tool pprof")
	f.StringSliceVar(&cfg.Only, "only", nil, "run only these phases: "+strings.Join(bench.Phases, ", "))
	return cmd
}

func (c *cli) bench(ctx context.Context, cfg bench.Config, jsonFile string) error {
	binary, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the attune binary for the worker replicas: %w", err)
	}
	quiet := c.cfg.Log
	if quiet.Level != "debug" {
		quiet.Level = "warn"
	}
	log := newLogger(quiet, os.Stderr)
	cfg.Binary, cfg.Log, cfg.Progress = binary, log, os.Stderr
	if cfg.Start, err = c.benchReplica(quiet); err != nil {
		return err
	}
	cfg.Settings = bench.Settings{
		FetchCooldown:     c.cfg.River.FetchCooldown,
		FetchPollInterval: c.cfg.River.FetchPollInterval,
		MaxWorkers:        c.cfg.Worker.NoopConcurrency,
		MaxConns:          c.cfg.Database.MaxConns,
		ShellConcurrency:  c.cfg.Worker.Concurrency,
		PlanCacheMode:     c.cfg.planCacheMode(),
	}
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if jsonFile != "" {
		f, err := os.Create(jsonFile)
		if err != nil {
			return fmt.Errorf("write --json %s: %w", jsonFile, err)
		}
		if err := rep.WriteJSON(f); err != nil {
			f.Close()
			return fmt.Errorf("write --json %s: %w", jsonFile, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write --json %s: %w", jsonFile, err)
		}
	}
	fmt.Fprintln(c.stdout)
	return rep.WriteTable(c.stdout)
}

// startCPUProfile profiles this process's CPU into file until stop is called.
func startCPUProfile(file string) (stop func(), err error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile %s: %w", file, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile %s: %w", file, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// benchReplica builds bench replicas exactly as `attune start` builds one, from this process's
// configuration, on the bench's databases, logging warnings only. A replica with the api role
// listens on a free loopback port of its own. Without secrets.key configured, every replica of
// the run shares one generated key, so webhook secrets stored by one open on another.
func (c *cli) benchReplica(logCfg LogConfig) (bench.StartFunc, error) {
	secretsKey := c.cfg.Secrets.Key
	if secretsKey == "" {
		key := make([]byte, secrets.KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate the bench's secrets key: %w", err)
		}
		secretsKey = base64.StdEncoding.EncodeToString(key)
	}
	var n atomic.Int64
	return func(ctx context.Context, url string, roles []string) (*bench.Replica, error) {
		cfg := *c.cfg
		cfg.Database.URL = url
		cfg.Database.AutoMigrate = false // the bench migrates its template database itself
		cfg.Log = logCfg
		cfg.Secrets.Key = secretsKey
		cfg.HTTP.Listen, cfg.HTTP.ListenSet = "127.0.0.1:0", true
		cfg.Worker.Name = fmt.Sprintf("bench-%d-%s", n.Add(1), strings.Join(roles, "+"))
		cfg.Shutdown.Grace = 2 * time.Second // a phase's end does not wait for its backlog
		log := newLogger(logCfg, os.Stderr).With("worker", cfg.Worker.Name)
		a, err := open(ctx, &cfg, log, false)
		if err != nil {
			return nil, err
		}
		hub, stopListening := a.listen(ctx) // as attune start: one LISTEN connection per process
		if err := a.buildListening(roles, hub); err != nil {
			stopListening()
			a.close()
			return nil, err
		}
		_, api, err := a.listenAPI(roles, hub)
		if err != nil {
			stopListening()
			a.close()
			return nil, err
		}
		r := bench.NewReplica(a.engine, a.db)
		r.Close = func() { stopListening(); a.close() }
		if api != nil {
			r.ServeAPI = func(ctx context.Context) (string, func()) {
				// Ended first on shutdown, as attune start's signal context is: it stops the
				// River UI's background queries before the pool closes.
				ctx, cancelServe := context.WithCancel(ctx)
				api.riverStarted.Store(true)
				api.srv.Serve(ctx)
				return api.srv.Addr(), func() {
					cancelServe()
					sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					if err := api.srv.Shutdown(sctx); err != nil {
						log.Warn("http requests did not finish in time", "error", err)
					}
					api.riverStarted.Store(false)
				}
			}
		}
		return r, nil
	}, nil
}
