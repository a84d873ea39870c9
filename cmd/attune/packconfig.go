package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/packs"
)

// packRefPattern is what a pack ref looks like (as packs checks it in pack.yaml).
var packRefPattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// loadPackConfig reads packs.config, the site's overrides of packs' config defaults: pack ref to
// a mapping. viper lowercases every key it reads, and a pack's config keys are the pack's own
// (pack.config.apiKey), so a YAML or JSON config file is read again here for that one subtree,
// with its keys as written; other file types go through viper. ATTUNE_PACKS_CONFIG, a JSON
// object of the same shape, replaces the file's packs.config as a whole. Values come back as
// JSON decodes them.
func loadPackConfig(v *viper.Viper, file string) (map[string]map[string]any, error) {
	var raw any
	switch ext := strings.ToLower(filepath.Ext(file)); {
	case file == "":
	case ext == ".yaml" || ext == ".yml" || ext == ".json":
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read config %s: %w", file, err)
		}
		var doc struct {
			Packs struct {
				Config any `yaml:"config"`
			} `yaml:"packs"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("read config %s: packs.config: %w", file, err)
		}
		raw = doc.Packs.Config
	default:
		raw = v.Get("packs.config")
	}
	source := "config " + file + ": packs.config"
	if env := os.Getenv("ATTUNE_PACKS_CONFIG"); env != "" {
		if err := json.Unmarshal([]byte(env), &raw); err != nil {
			return nil, fmt.Errorf(`ATTUNE_PACKS_CONFIG must be a JSON object of pack ref to config, like {"mypack": {"greeting": "hi"}}: %w`, err)
		}
		source = "ATTUNE_PACKS_CONFIG"
	}
	if raw == nil {
		return nil, nil
	}
	b, err := json.Marshal(raw)
	var out map[string]map[string]any
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		return nil, fmt.Errorf("%s must map pack refs to mappings of config keys, like mypack: {greeting: hi}: %w", source, err)
	}
	return out, nil
}

// applyPackConfig sets p's config: its pack.yaml defaults, overridden by packs.config_dir's
// <ref>.yaml (StackStorm's /opt/stackstorm/configs/<pack>.yaml), overridden by packs.config.<ref>,
// checked against the pack's config.schema.yaml (see packs.ApplyConfig).
func (c *Config) applyPackConfig(p *attune.Pack) error {
	var fromDir map[string]any
	if c.Packs.ConfigDir != "" {
		file := filepath.Join(c.Packs.ConfigDir, p.Ref+".yaml")
		data, err := os.ReadFile(file)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("pack %s: packs.config_dir: %w", p.Ref, err)
		default:
			var raw any
			if err := yaml.Unmarshal(data, &raw); err != nil {
				return fmt.Errorf("pack %s: packs.config_dir: %s: %w", p.Ref, file, err)
			}
			if raw != nil {
				b, err := json.Marshal(raw)
				if err == nil {
					err = json.Unmarshal(b, &fromDir)
				}
				if err != nil {
					return fmt.Errorf("pack %s: %s must be a mapping of config keys, like greeting: hi: %w", p.Ref, file, err)
				}
			}
		}
	}
	return packs.ApplyConfig(p, fromDir, c.Packs.Config[p.Ref])
}
