package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/viper"
	"github.com/stretchr/testify/require"
)

func TestConfigDefaultsAreValid(t *testing.T) {
	t.Chdir(t.TempDir()) // no config.development.yaml here
	cfg, err := loadConfig(viper.New(), "")
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	require.Equal(t, "./.attune", cfg.DataDir)
	require.Equal(t, "", cfg.Database.URL)
	require.Equal(t, 5*time.Second, cfg.Runtimes.KillGrace)
	roles, err := cfg.RoleList()
	require.NoError(t, err)
	require.Equal(t, []string{"timers", "rules", "workers", "api"}, roles)
	require.NotEmpty(t, cfg.Worker.Name)
}

func TestConfigEnvironmentOverridesFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	file := filepath.Join(dir, "attune.yaml")
	require.NoError(t, os.WriteFile(file, []byte("database:\n  url: postgres://file@db/attune\n  max_conns: 7\nruntimes:\n  kill_grace: 2s\n"), 0o600))
	t.Setenv("ATTUNE_DATABASE_URL", "postgres://env@db/attune")
	t.Setenv("ATTUNE_WORKER_CONCURRENCY", "3")
	cfg, err := loadConfig(viper.New(), file)
	require.NoError(t, err)
	require.Equal(t, "postgres://env@db/attune", cfg.Database.URL, "ATTUNE_DATABASE_URL overrides database.url")
	require.Equal(t, int32(7), cfg.Database.MaxConns, "the file still counts")
	require.Equal(t, 3, cfg.Worker.Concurrency, "env-only keys work")
	require.Equal(t, 2*time.Second, cfg.Runtimes.KillGrace)
}

func TestConfigValidateReportsEveryField(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("ATTUNE_ROLES", "timers,sensors")
	t.Setenv("ATTUNE_LOG_FORMAT", "xml")
	t.Setenv("ATTUNE_DATABASE_MAX_CONNS", "1")
	t.Setenv("ATTUNE_DATABASE_MIN_CONNS", "5")
	t.Setenv("ATTUNE_DATABASE_URL", "mysql://nope")
	cfg, err := loadConfig(viper.New(), "")
	require.NoError(t, err)
	err = cfg.Validate()
	require.Error(t, err)
	for _, want := range []string{`roles: unknown role "sensors"`, "log.format:", "database.max_conns:", "database.url:",
		"database.min_conns: must be between 0 and database.max_conns (1), got 5"} {
		require.Contains(t, err.Error(), want)
	}
}

func TestConfigMaskedHidesPassword(t *testing.T) {
	c := Config{Database: DatabaseConfig{URL: "postgres://bob:s3cret@db:5432/attune?password=other&sslmode=disable"}}
	m := c.Masked()
	require.NotContains(t, m.Database.URL, "s3cret")
	require.NotContains(t, m.Database.URL, "other")
	require.Contains(t, m.Database.URL, "bob:********@db:5432")
	require.Contains(t, c.Database.URL, "s3cret", "the original is untouched")
}

func TestParseParams(t *testing.T) {
	p, err := parseParams([]string{"message=hi", "count:=3", "tags:=[\"a\"]", "eq=a=b", "flag:=true"})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"message": "hi", "count": float64(3), "tags": []any{"a"}, "eq": "a=b", "flag": true}, p)
	_, err = parseParams([]string{"count:=nope"})
	require.ErrorContains(t, err, "count")
	_, err = parseParams([]string{"novalue"})
	require.ErrorContains(t, err, "key=value")
}

// attune config prints durations and sizes as a config file would say them, and reads them back.
func TestConfigPrintsDurationsAndSizes(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, err := loadConfig(viper.New(), "")
	require.NoError(t, err)
	tree, err := humanConfig(cfg.Masked())
	require.NoError(t, err)
	require.Equal(t, "25s", tree["shutdown"].(map[string]any)["grace"])
	require.Equal(t, "5s", tree["runtimes"].(map[string]any)["kill_grace"])
	require.Equal(t, "1MiB", tree["runtimes"].(map[string]any)["output_cap"])
	require.Equal(t, "2ms", tree["river"].(map[string]any)["fetch_cooldown"])
	for _, w := range []string{"heartbeat", "silent_after", "rescue_after"} {
		require.IsType(t, "", tree["worker"].(map[string]any)[w], "worker.%s", w)
	}

	t.Setenv("ATTUNE_RUNTIMES_OUTPUT_CAP", "512KiB")
	cfg, err = loadConfig(viper.New(), "")
	require.NoError(t, err)
	require.Equal(t, 512<<10, cfg.Runtimes.OutputCap, "a size reads back")
	require.Equal(t, "1000B", formatBytes(1000))
}
