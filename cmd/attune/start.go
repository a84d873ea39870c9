package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune"
)

func (c *cli) startCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run attune: timers, rules and workers (all roles by default)",
		Long: `Run attune. With no database configured it starts a private PostgreSQL cluster under the
data directory, applies migrations, registers the core pack (and the demo pack) and runs every
role in one process. Use --roles to run a subset, so worker replicas scale on their own.`,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.start(cmd.Context()) },
	}
	cmd.Flags().String("roles", "timers,rules,workers,api", "roles to run: timers, rules, workers, api (env ATTUNE_ROLES)")
	_ = c.v.BindPFlag("roles", cmd.Flags().Lookup("roles"))
	return cmd
}

func (c *cli) start(ctx context.Context) error {
	roles, err := c.cfg.RoleList()
	if err != nil {
		return err
	}
	log := c.log.With("worker", c.cfg.Worker.Name)
	a, err := open(ctx, c.cfg, log, true)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.build(roles); err != nil {
		return err
	}
	if err := a.registerBuiltins(ctx); err != nil {
		return err
	}
	// One LISTEN connection per process: cancels, and the API's streams, follow it.
	hub, stopListening := a.listen(ctx)
	defer stopListening()
	roles, api, err := a.listenAPI(roles, hub)
	if err != nil {
		return err
	}
	// Not ctx: cancelling River's start context is a hard stop that kills running actions at
	// once. The first signal leads to a graceful Stop instead (see shutdown).
	if a.works { // an api-only replica only inserts jobs
		if err := a.river.Start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("start river: %w", err)
		}
	}
	if api != nil {
		api.riverStarted.Store(true)
		if a.embedded != nil {
			if err := a.ensureLocalKey(ctx); err != nil {
				return err
			}
		}
		a.warnOpenWebhooks(ctx)
		api.srv.Serve(ctx)
	}
	log.Info("attune started", "roles", strings.Join(roles, ","), "embedded_db", a.embedded != nil)
	ctx, stopWatch := a.watchDataDir(ctx, log)
	defer stopWatch()

	stopBeat := a.heartbeat(ctx, roles)
	if slices.Contains(roles, RoleWorkers) {
		defer a.watchCancels(hub)() // past shutdown: actions finishing in the grace can be cancelled
	}
	if slices.Contains(roles, RoleRules) {
		go a.reapLoop(ctx)
	}
	<-ctx.Done()
	if api != nil { // stop accepting, let in-flight requests finish, then stop River
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := api.srv.Shutdown(sctx); err != nil {
			log.Warn("http requests did not finish in time", "error", err)
		}
		cancel()
		api.riverStarted.Store(false)
	}
	// Keep beating while running actions finish: a replica that stopped beating would have
	// them abandoned by another's reaper before it could record their outcome.
	a.shutdown(log)
	stopBeat()
	if cause := context.Cause(ctx); errors.Is(cause, errDataDirLost) {
		return exitError{code: 1, msg: cause.Error() + "; attune stopped, and its embedded postgres with it"}
	}
	return nil
}

// heartbeat records that this replica is alive now and every worker.heartbeat until the
// returned func is called.
func (a *app) heartbeat(ctx context.Context, roles []string) (stop func()) {
	host, _ := os.Hostname()
	beat := func() {
		err := a.db.AutoCommit().WorkerHeartbeat(context.WithoutCancel(ctx), attune.Worker{
			Name: a.cfg.Worker.Name, Roles: strings.Join(roles, ","), Hostname: host, PID: os.Getpid(),
		})
		if err != nil {
			a.log.Warn("heartbeat failed", "error", err)
		}
	}
	beat()
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(a.cfg.Worker.Heartbeat)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				beat()
			}
		}
	}()
	return func() {
		close(done)
		// Stopped cleanly: nothing runs here any more, so no one should count on this replica.
		if err := a.db.AutoCommit().WorkerForget(context.WithoutCancel(ctx), a.cfg.Worker.Name); err != nil {
			a.log.Warn("forget worker", "error", err)
		}
	}
}

// reapLoop abandons, every half of worker.silent_after, the running executions of replicas
// that went silent, until ctx ends.
func (a *app) reapLoop(ctx context.Context) {
	tick := time.NewTicker(a.cfg.Worker.SilentAfter / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := a.p.Reap(ctx, a.cfg.Worker.SilentAfter); err != nil && ctx.Err() == nil {
				a.log.Warn("reaping silent workers failed", "error", err)
			}
			if err := a.p.AdmitWaiting(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("admitting policy waiters failed", "error", err)
			}
		}
	}
}

// shutdown stops River gracefully: no new jobs are fetched and running actions may finish for
// shutdown.grace. Then the rest are cancelled: their processes are killed and their executions
// recorded abandoned (and retried if their policy says so). A second SIGINT or SIGTERM cuts the
// grace short; the outcome is recorded the same way.
func (a *app) shutdown(log *slog.Logger) {
	log.Info("attune stopping: finishing running actions", "grace", a.cfg.Shutdown.Grace)
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	graceCtx, cancel := context.WithTimeout(context.Background(), a.cfg.Shutdown.Grace)
	defer cancel()
	go func() {
		select {
		case <-again:
			log.Warn("second signal: killing running actions now")
			cancel()
		case <-graceCtx.Done():
		}
	}()
	if !a.works {
		log.Info("attune stopped")
		return
	}
	if err := a.river.Stop(graceCtx); err != nil {
		log.Warn("running actions did not finish in time; killing them", "error", err)
		cctx, ccancel := context.WithTimeout(context.Background(), a.cfg.Runtimes.KillGrace+15*time.Second)
		defer ccancel()
		if err := a.river.StopAndCancel(cctx); err != nil {
			log.Error("river did not stop", "error", err)
		}
	}
	log.Info("attune stopped")
}
