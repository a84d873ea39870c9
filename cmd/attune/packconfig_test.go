package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/viper"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// writeConfig writes a config file named name in a fresh working directory and returns its path.
func writeConfig(t *testing.T, name, content string) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	file := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(file, []byte(content), 0o600))
	return file
}

// packs.config is read from the file with its keys' case kept (viper would lowercase them),
// with numbers as JSON decodes them, and applied over a pack's defaults.
func TestPackConfigFromFile(t *testing.T) {
	file := writeConfig(t, "attune.yaml", `
log: {level: warn}
packs:
  config:
    mon:
      apiKey: k1
      nested: {MixedCase: 2}
    other: {x: true}
`)
	cfg, err := loadConfig(viper.New(), file)
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	require.Equal(t, "warn", cfg.Log.Level, "the rest of the file still counts")
	require.Equal(t, map[string]map[string]any{
		"mon":   {"apiKey": "k1", "nested": map[string]any{"MixedCase": 2.0}},
		"other": {"x": true},
	}, cfg.Packs.Config)

	p := &attune.Pack{Ref: "mon", Config: map[string]any{"apiKey": "default", "nested": map[string]any{"keep": "me"}, "url": "u"}}
	require.NoError(t, cfg.applyPackConfig(p))
	require.Equal(t, map[string]any{"apiKey": "k1", "nested": map[string]any{"keep": "me", "MixedCase": 2.0}, "url": "u"}, p.Config)

	untouched := &attune.Pack{Ref: "solo", Config: map[string]any{"a": 1.0}}
	require.NoError(t, cfg.applyPackConfig(untouched))
	require.Equal(t, map[string]any{"a": 1.0}, untouched.Config)
}

// ATTUNE_PACKS_CONFIG, a JSON object, replaces the file's packs.config.
func TestPackConfigFromEnvironment(t *testing.T) {
	file := writeConfig(t, "attune.json", `{"packs": {"config": {"mon": {"fromFile": 1}}}}`)
	cfg, err := loadConfig(viper.New(), file)
	require.NoError(t, err)
	require.Equal(t, map[string]map[string]any{"mon": {"fromFile": 1.0}}, cfg.Packs.Config, "a JSON file is read too")

	t.Setenv("ATTUNE_PACKS_CONFIG", `{"mon": {"fromEnv": "yes"}}`)
	cfg, err = loadConfig(viper.New(), file)
	require.NoError(t, err)
	require.Equal(t, map[string]map[string]any{"mon": {"fromEnv": "yes"}}, cfg.Packs.Config)
}

func TestPackConfigErrors(t *testing.T) {
	t.Run("NotAMappingOfMappings", func(t *testing.T) {
		file := writeConfig(t, "attune.yaml", "packs:\n  config:\n    mon: [a, b]\n")
		_, err := loadConfig(viper.New(), file)
		require.ErrorContains(t, err, "config "+file+": packs.config must map pack refs to mappings of config keys, like mypack: {greeting: hi}")
	})
	t.Run("EnvironmentNotJSON", func(t *testing.T) {
		t.Chdir(t.TempDir())
		t.Setenv("ATTUNE_PACKS_CONFIG", "mon.greeting=hi")
		_, err := loadConfig(viper.New(), "")
		require.ErrorContains(t, err, `ATTUNE_PACKS_CONFIG must be a JSON object of pack ref to config, like {"mypack": {"greeting": "hi"}}`)
	})
	t.Run("NotAPackRef", func(t *testing.T) {
		file := writeConfig(t, "attune.yaml", "packs:\n  config:\n    My.Pack: {a: 1}\n")
		cfg, err := loadConfig(viper.New(), file)
		require.NoError(t, err)
		require.ErrorContains(t, cfg.Validate(), `packs.config.My.Pack: "My.Pack" is not a pack ref`)
	})
}

// packs.config_dir holds StackStorm-style <pack>.yaml config files; packs.config of attune's
// own config is merged over them key by key, and the result is checked against the pack's
// config.schema.yaml, whose defaults fill the keys neither gives.
func TestPackConfigDirAndSchema(t *testing.T) {
	configs := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(configs, "mon.yaml"), []byte("apiKey: fromDir\nregion: eu\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(configs, "bad.yaml"), []byte("port: many\nextra: 1\n"), 0o600))
	file := writeConfig(t, "attune.yaml", "packs:\n  config_dir: "+configs+"\n  config:\n    mon: {region: us}\n")
	cfg, err := loadConfig(viper.New(), file)
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())

	schema := attune.ParamSchema{
		"apiKey":  {Type: "string", Required: true},
		"region":  {Type: "string", Enum: []any{"eu", "us"}},
		"timeout": {Type: "integer", Default: 30},
	}
	p := &attune.Pack{Ref: "mon", ConfigSchema: schema}
	require.NoError(t, cfg.applyPackConfig(p))
	require.Equal(t, map[string]any{"apiKey": "fromDir", "region": "us", "timeout": 30.0}, p.Config, "packs.config wins over the file; the schema's default fills timeout")

	bad := &attune.Pack{Ref: "bad", ConfigSchema: attune.ParamSchema{"port": {Type: "integer"}}}
	err = cfg.applyPackConfig(bad)
	require.ErrorContains(t, err, "pack bad: config does not match its config.schema.yaml")
	require.ErrorContains(t, err, "port:")
	require.ErrorContains(t, err, "extra:")

	unconfigured := &attune.Pack{Ref: "solo", ConfigSchema: schema}
	require.NoError(t, cfg.applyPackConfig(unconfigured), "a pack the site does not configure is not checked")
	require.Equal(t, map[string]any{"timeout": 30}, unconfigured.Config)
}
