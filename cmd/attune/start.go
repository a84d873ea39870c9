package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune"
)

const heartbeatEvery = 10 * time.Second

func (c *cli) startCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run attune: timers, rules and workers (all roles by default)",
		Long: `Run attune. With no database configured it starts a private PostgreSQL cluster under the
data directory, applies migrations, registers the core pack (and the demo pack) and runs every
role in one process. Use --roles to run a subset, so worker replicas scale on their own.`,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.start(cmd.Context()) },
	}
	cmd.Flags().String("roles", "timers,rules,workers", "roles to run: timers, rules, workers (env ATTUNE_ROLES)")
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
	if err := a.river.Start(ctx); err != nil {
		return fmt.Errorf("start river: %w", err)
	}
	log.Info("attune started", "roles", strings.Join(roles, ","), "embedded_db", a.embedded != nil)

	host, _ := os.Hostname()
	beat := func() {
		err := a.db.Read().WorkerHeartbeat(context.WithoutCancel(ctx), attune.Worker{
			Name: c.cfg.Worker.Name, Roles: strings.Join(roles, ","), Hostname: host, PID: os.Getpid(),
		})
		if err != nil {
			log.Warn("heartbeat failed", "error", err)
		}
	}
	beat()
	tick := time.NewTicker(heartbeatEvery)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
			beat()
		}
	}
	log.Info("attune stopping: finishing running actions")
	stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.river.Stop(stopCtx); err != nil {
		log.Warn("river did not stop in time; cancelling running jobs", "error", err)
		_ = a.river.StopAndCancel(context.Background())
	}
	log.Info("attune stopped")
	return nil
}
