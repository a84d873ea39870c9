package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/db/embedded"
)

func (c *cli) statusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use: "status", Short: "Queue depths by River state, executions by status, and workers seen", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withApp(cmd.Context(), func(a *app) error {
				ctx := cmd.Context()
				q := a.db.AutoCommit()
				jobs, err := q.JobCounts(ctx)
				if err != nil {
					return err
				}
				counts, err := q.ExecutionCounts(ctx)
				if err != nil {
					return err
				}
				workers, err := q.Workers(ctx)
				if err != nil {
					return err
				}
				pending, err := q.OldestPendingJobs(ctx)
				if err != nil {
					return err
				}
				stuck, err := q.ExecutionsOnSilentWorkers(ctx, time.Now().Add(-c.cfg.Worker.SilentAfter))
				if err != nil {
					return err
				}
				policies, err := q.Policies(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					silent := make([]map[string]any, len(stuck))
					for i, x := range stuck {
						silent[i] = executionJSON(x)
					}
					return writeJSON(c.stdout, map[string]any{"jobs": snakeJSON(jobs), "executions": snakeJSON(counts),
						"workers": snakeJSON(workers), "pending": snakeJSON(pending), "silent_running": silent, "policies": policyRows(policies)})
				}
				fmt.Fprintln(c.stdout, "JOBS")
				jrows := make([][]string, len(jobs))
				for i, j := range jobs {
					jrows[i] = []string{j.Queue, j.State, strconv.FormatInt(j.Count, 10)}
				}
				if err := table(c.stdout, []string{"QUEUE", "STATE", "COUNT"}, jrows); err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, "\nWAITING (oldest due job per queue)")
				prows := make([][]string, len(pending))
				for i, p := range pending {
					prows[i] = []string{p.Queue, strconv.FormatInt(p.Count, 10), fmtTime(&p.Oldest),
						max(time.Since(p.Oldest), 0).Round(time.Millisecond).String()} // due by the database's clock, which may run ahead of ours
				}
				if err := table(c.stdout, []string{"QUEUE", "WAITING", "OLDEST DUE", "AGE"}, prows); err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, "\nEXECUTIONS")
				var xrows [][]string
				for _, s := range attune.ExecutionStatuses {
					if n := counts[s]; n > 0 {
						xrows = append(xrows, []string{string(s), strconv.FormatInt(n, 10)})
					}
				}
				if err := table(c.stdout, []string{"STATUS", "COUNT"}, xrows); err != nil {
					return err
				}
				if err := printPolicyWaiters(c.stdout, policies); err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, "\nWORKERS")
				wrows := make([][]string, len(workers))
				for i, w := range workers {
					state := "alive"
					if time.Since(w.LastSeenAt) > c.cfg.Worker.SilentAfter {
						state = "silent"
					}
					seen := w.LastSeenAt
					wrows[i] = []string{w.Name, w.Roles, state, fmtTime(&seen)}
				}
				if err := table(c.stdout, []string{"NAME", "ROLES", "STATE", "LAST SEEN"}, wrows); err != nil {
					return err
				}
				if len(stuck) > 0 {
					fmt.Fprintln(c.stdout, "\nRUNNING ON SILENT WORKERS (will be abandoned)")
					srows := make([][]string, len(stuck))
					for i, x := range stuck {
						srows[i] = []string{strconv.FormatInt(x.ID, 10), x.ActionRef, x.Worker, fmtTime(x.StartedAt)}
					}
					return table(c.stdout, []string{"ID", "ACTION", "WORKER", "STARTED"}, srows)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *cli) dbCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "The database attune uses"}
	cmd.AddCommand(&cobra.Command{
		Use:   "url",
		Short: "Print the URL of the database (the running embedded cluster, or database.url)",
		Long: `Print the database URL, for psql "$(attune db url)". With the embedded default this is the
running cluster of the data directory; when none is running it says so and exits 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if c.cfg.Database.URL != "" {
				fmt.Fprintln(c.stdout, c.cfg.Database.URL)
				return nil
			}
			dir, err := filepath.Abs(c.cfg.DataDir)
			if err != nil {
				return err
			}
			url, err := embedded.RunningURL(dir)
			if err != nil {
				return exitError{code: 1, msg: fmt.Sprintf("%v\n(start it with `attune start`, or set database.url)", err)}
			}
			fmt.Fprintln(c.stdout, url)
			return nil
		},
	})
	return cmd
}

func (c *cli) migrateCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply River's and attune's database migrations and register the built-in packs",
		Long: `Apply River's and attune's pending migrations, then register the packs built into attune (core,
and demo when packs.demo says so), so that every other command can use the database. Only
attune start and attune migrate change a database's schema. On a database that holds another
application's tables and no attune schema, migrate asks for --yes first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg := *c.cfg
			cfg.Database.AutoMigrate = false
			a, err := open(ctx, &cfg, c.log, false)
			if err != nil {
				return err
			}
			defer a.close()
			if err := c.confirmForeign(ctx, a, yes); err != nil {
				return err
			}
			applied, err := db.Migrate(ctx, a.db.Pool, c.log)
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintln(c.stdout, "database is up to date")
			}
			for _, m := range applied {
				fmt.Fprintln(c.stdout, "applied", m)
			}
			if err := a.build(nil); err != nil {
				return err
			}
			builtins, err := a.builtinPacks()
			if err != nil {
				return err
			}
			if err := a.registerPacks(ctx, builtins); err != nil {
				return err
			}
			for _, p := range builtins {
				fmt.Fprintln(c.stdout, "registered pack", p.Ref)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "migrate even a database that holds another application's tables")
	cmd.AddCommand(&cobra.Command{
		Use: "status", Short: "Show every migration and whether it is applied", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := *c.cfg
			cfg.Database.AutoMigrate = false
			a, err := open(cmd.Context(), &cfg, c.log, false)
			if err != nil {
				return err
			}
			defer a.close()
			ms, err := db.MigrationStatus(cmd.Context(), a.db.Pool)
			if err != nil {
				return err
			}
			rows := make([][]string, len(ms))
			for i, m := range ms {
				state := "pending"
				if m.Applied {
					state = "applied"
				}
				rows[i] = []string{m.Owner, strconv.FormatInt(m.Version, 10), m.Name, state, fmtTime(m.AppliedAt)}
			}
			return table(c.stdout, []string{"OWNER", "VERSION", "NAME", "STATE", "APPLIED AT"}, rows)
		},
	})
	return cmd
}

// confirmForeign refuses, unless yes, to migrate an external database that already holds tables
// but no attune schema: most likely another application's database, given by mistake.
func (c *cli) confirmForeign(ctx context.Context, a *app, yes bool) error {
	if a.embedded != nil || yes {
		return nil
	}
	n, err := db.ForeignTables(ctx, a.db.Pool)
	if err != nil || n == 0 {
		return err
	}
	return exitError{code: 2, msg: fmt.Sprintf("database %s holds %s and no attune schema: is it another application's?\n"+
		"attune would add its schema attune and River's tables (river_job, …) in schema %s. "+
		"Run `attune migrate --yes` to do so anyway, or set database.url to an empty database. Nothing was changed.",
		a.cfg.Masked().Database.URL, plural(n, "table"), db.RiverSchema)}
}
