package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
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
	// One LISTEN connection per process: cancels, and the API's streams, follow it.
	hub, stopListening := a.listen(ctx)
	defer stopListening()
	if err := a.buildListening(roles, hub); err != nil {
		return err
	}
	if err := a.registerBuiltins(ctx); err != nil {
		return interrupted(ctx, err)
	}
	served, api, err := a.listenAPI(roles, hub)
	if err != nil {
		return err
	}
	if len(served) < len(roles) { // another process serves the api: rebuild without the role
		roles = served
		if err := a.buildListening(roles, hub); err != nil {
			return err
		}
	}
	if err := a.engine.Start(ctx); err != nil {
		return err
	}
	if api != nil {
		api.riverStarted.Store(true)
		if a.embedded != nil {
			if err := a.ensureLocalKey(ctx); err != nil {
				a.shutdown(log)
				return interrupted(ctx, err)
			}
		}
		a.warnOpenWebhooks(ctx)
		api.srv.Serve(ctx)
	}
	log.Info("attune started", "roles", strings.Join(roles, ","), "embedded_db", a.embedded != nil)
	ctx, stopWatch := a.watchDataDir(ctx, log)
	defer stopWatch()
	<-ctx.Done()
	if api != nil { // stop accepting, let in-flight requests finish, then stop the replica
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := api.srv.Shutdown(sctx); err != nil {
			log.Warn("http requests did not finish in time", "error", err)
		}
		cancel()
		api.riverStarted.Store(false)
	}
	a.shutdown(log)
	if cause := context.Cause(ctx); errors.Is(cause, errDataDirLost) {
		return exitError{code: 1, msg: cause.Error() + "; attune stopped, and its embedded postgres with it"}
	}
	return nil
}

// shutdown stops the replica (see engine.Replica.Stop): no new jobs are fetched and running
// actions may finish for shutdown.grace; then the rest are killed and recorded abandoned. A
// second SIGINT or SIGTERM cuts the grace short; the outcome is recorded the same way.
func (a *app) shutdown(log *slog.Logger) {
	log.Info("attune stopping: finishing running actions", "grace", a.cfg.Shutdown.Grace)
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-again:
			log.Warn("second signal: killing running actions now")
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := a.engine.Stop(ctx); err != nil {
		log.Error("attune did not stop cleanly", "error", err)
	}
	log.Info("attune stopped")
}

// stopEngine stops the replica a command worked for its duration (attune run, attune event
// emit) as attune start stops one.
func (a *app) stopEngine() {
	if err := a.engine.Stop(context.Background()); err != nil {
		a.log.Warn("stopping the replica", "error", err)
	}
}

// interrupted is a start-up step's error, or nil when the step failed because a signal stopped
// attune while it started: SIGINT during start-up is a clean stop, not a failure.
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil && !errors.Is(context.Cause(ctx), errDataDirLost) {
		return nil
	}
	return err
}
