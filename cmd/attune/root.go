package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/attune-run/attune/db"
)

// cli is the state shared by every command: configuration and logger, loaded before the command
// runs.
type cli struct {
	v      *viper.Viper
	file   string
	cfg    *Config
	log    *slog.Logger
	stdout io.Writer
}

func newRootCmd() *cobra.Command {
	c := &cli{v: viper.New(), stdout: os.Stdout}
	root := &cobra.Command{
		Use:           "attune",
		Short:         "Event-driven automation on PostgreSQL: sensors, rules and actions",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(c.v, c.file)
			if err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			c.cfg = cfg
			c.log = newLogger(cfg.Log, os.Stderr)
			for _, w := range unknownConfigEnv(os.Environ()) {
				c.log.Warn(w)
			}
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&c.file, "config", "", "config file (default: $ATTUNE_CONFIG, else ./config.development.yaml when present)")
	pf.String("data-dir", "./.attune", "data directory of the embedded database (env ATTUNE_DATA_DIR)")
	pf.String("database-url", "", "PostgreSQL URL; empty runs the embedded database (env ATTUNE_DATABASE_URL)")
	pf.String("log-format", "text", "log format: text or json (env ATTUNE_LOG_FORMAT)")
	pf.String("log-level", "info", "log level: debug, info, warn, error (env ATTUNE_LOG_LEVEL)")
	_ = c.v.BindPFlag("data_dir", pf.Lookup("data-dir"))
	_ = c.v.BindPFlag("database.url", pf.Lookup("database-url"))
	_ = c.v.BindPFlag("log.format", pf.Lookup("log-format"))
	_ = c.v.BindPFlag("log.level", pf.Lookup("log-level"))

	root.AddCommand(
		c.startCmd(), c.migrateCmd(), c.packCmd(), c.runCmd(), c.executionCmd(),
		c.ruleCmd(), c.eventCmd(), c.statusCmd(), c.dbCmd(), c.configCmd(), c.benchCmd(),
		c.keyCmd(), c.policyCmd(), c.apikeyCmd(), c.webhookCmd(),
	)
	root.AddCommand(c.actionCmd())
	root.AddCommand(c.inquiryCmd())
	return root
}

func newLogger(cfg LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// open connects a short-lived command to the database.
func (c *cli) open(ctx context.Context) (*app, error) {
	// Commands other than start log only warnings, so their output stays readable.
	quiet := c.log
	if c.cfg.Log.Level == "info" {
		quiet = newLogger(LogConfig{Format: c.cfg.Log.Format, Level: "warn"}, os.Stderr)
	}
	// Only start and migrate change the schema of an external database; see needSchema.
	cfg := *c.cfg
	cfg.Database.AutoMigrate = false
	a, err := open(ctx, &cfg, quiet, false)
	if err != nil {
		return nil, err
	}
	if err := a.needSchema(ctx); err != nil {
		a.close()
		return nil, err
	}
	if err := a.ensureBuiltins(ctx); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// ensureBuiltins registers the built-in packs on an embedded cluster that a command other than
// start has just created, so attune run core.echo works before the first attune start, as
// attune migrate leaves an external database.
func (a *app) ensureBuiltins(ctx context.Context) error {
	if a.embedded == nil {
		return nil
	}
	if ok, err := a.db.AutoCommit().TriggerExists(ctx, "core.intervaltimer"); err != nil || ok {
		return err
	}
	if err := a.build(nil); err != nil {
		return err
	}
	builtins, err := a.builtinPacks()
	if err != nil {
		return err
	}
	return a.registerPacks(ctx, builtins)
}

// needSchema refuses an external database whose schema attune's migrations have not (all) been
// applied to, saying to run `attune migrate`. The embedded cluster is attune's own: open
// migrates it.
func (a *app) needSchema(ctx context.Context) error {
	if a.embedded != nil {
		return nil
	}
	err := db.CheckSchema(ctx, a.db.Pool)
	if errors.Is(err, db.ErrSchemaNotReady) {
		return exitError{code: 1, msg: fmt.Sprintf("database %s is not ready for attune: %v.\n"+
			"Only `attune start` and `attune migrate` change a database's schema: run `attune migrate` first.",
			a.cfg.Masked().Database.URL, err)}
	}
	return err
}

func containsRole(roles, role string) bool {
	for _, r := range strings.Split(roles, ",") {
		if strings.TrimSpace(r) == role {
			return true
		}
	}
	return false
}
