package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/viper"
	"github.com/stretchr/testify/require"
)

// A typo in the config file is an error at file:line:col, not a quiet fallback to the embedded
// database.
func TestConfigFileUnknownKeysAreErrors(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	file := filepath.Join(dir, "attune.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`databse:
  url: postgres://db/attune
worker:
  concurrency: 4
  heartbaet: 2s
`), 0o600))
	_, err := loadConfig(viper.New(), file)
	require.Error(t, err)
	require.Contains(t, err.Error(), file+":1:1: unknown key databse; did you mean `database`?")
	require.Contains(t, err.Error(), file+":5:3: unknown key worker.heartbaet; did you mean `worker.heartbeat`?")
}

func TestConfigFileAllowsPackConfigAndExtensions(t *testing.T) {
	devConfig, err := filepath.Abs(filepath.Join("..", "..", "config.development.yaml"))
	require.NoError(t, err)
	require.NoError(t, checkConfigFileKeys(devConfig), "the shipped development config is valid")
	dir := t.TempDir()
	t.Chdir(dir)
	file := filepath.Join(dir, "attune.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`x-common: &common
  anything: goes
database:
  url: postgres://db/attune
packs:
  config:
    mypack:
      apiKey: abc
      nested: {whatever: 1}
log:
  x-note: ignored on purpose
  level: debug
`), 0o600))
	cfg, err := loadConfig(viper.New(), file)
	require.NoError(t, err)
	require.Equal(t, "postgres://db/attune", cfg.Database.URL)
	require.Equal(t, "abc", cfg.Packs.Config["mypack"]["apiKey"])
}

func TestUnknownConfigEnvWarns(t *testing.T) {
	t.Parallel()
	got := unknownConfigEnv([]string{"ATTUNE_DATABSE_URL=postgres://x", "ATTUNE_DATABASE_URL=", "ATTUNE_CONFIG=a.yaml",
		"ATTUNE_EXECUTION_ID=5", "HOME=/root", "ATTUNE_PACKS_CONFIG={}", "ATTUNE_PACKS_CONFIG_MYPACK_KEY=1"})
	require.Len(t, got, 2)
	require.Contains(t, got[0], "ATTUNE_DATABSE_URL names no configuration key and is ignored; did you mean ATTUNE_DATABASE_URL?")
	require.Contains(t, got[1], "ATTUNE_PACKS_CONFIG_MYPACK_KEY")
}
