package packs

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/params"
)

// configSchemaFile is StackStorm's schema of a pack's config, beside pack.yaml.
const configSchemaFile = "config.schema.yaml"

// readConfigSchema reads config.schema.yaml when the pack has one: the flat shape of action
// parameters (key to {type, description, required, default, enum, secret, ...}), or a JSON
// Schema object. The values of secret: true keys are sealed at registration (see
// jobs.Pipeline.SealPackConfig); pack validate says so at the key.
func (l *loader) readConfigSchema() attune.ParamSchema {
	if _, err := fs.Stat(l.fsys, path.Join(l.dir, configSchemaFile)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	s, ok := l.parse(configSchemaFile)
	if !ok {
		return nil
	}
	schema := readSchemaMapping(s, nil)
	props := s
	if _, isJSONSchema := s.m["type"].(string); isJSONSchema {
		props, _ = s.mapping("properties")
	}
	for _, name := range sortedKeys(schema) {
		spec := schema[name]
		if nested := params.NestedSecret(map[string]any{"items": anyMap(spec.Items), "properties": anyMap(spec.Properties),
			"additionalProperties": spec.AdditionalProperties}); nested != "" {
			if at, ok := props.mapping(name); ok {
				l.warnAt(at2(at, nested), "config key %q holds a secret (%s): attune seals the whole value of %q under secrets.key and shows it as ********; "+
					"the pack's python-script actions see it whole in self.config", name, nested, name)
			}
			continue
		}
		if !spec.Secret {
			continue
		}
		if spec, ok := props.mapping(name); ok {
			l.warnAt(at{spec, "secret"}, "config key %q is secret: attune stores its value sealed under secrets.key (registration needs one) and shows it as ********; "+
				"only the pack's python-script actions see it (self.config), and templates see it masked", name)
		}
	}
	return schema
}

// ApplyConfig sets p's effective config: its pack.yaml config defaults, overridden key by key
// by each of site in turn (later ones win; see MergeConfig), then the defaults of its
// config.schema.yaml for keys still missing. When the site gives a config (any of site is not
// nil) and the pack has a schema, the result is checked against it as action parameters are:
// types, enums, required keys and unknown keys, every one listed. A pack the site does not
// configure is not checked, so a pack whose schema requires an API key still registers.
func ApplyConfig(p *attune.Pack, site ...map[string]any) error {
	cfg, given := p.Config, false
	if cfg == nil {
		cfg = map[string]any{}
	}
	for _, s := range site {
		if s != nil {
			cfg, given = MergeConfig(cfg, s), true
		}
	}
	if len(p.ConfigSchema) == 0 {
		p.Config = cfg
		return nil
	}
	if !given {
		cfg = MergeConfig(cfg, nil)
		for _, name := range sortedKeys(p.ConfigSchema) {
			if _, ok := cfg[name]; !ok && p.ConfigSchema[name].Default != nil {
				cfg[name] = deepCopy(p.ConfigSchema[name].Default)
			}
		}
		p.Config = cfg
		return nil
	}
	out, err := params.Apply(p.ConfigSchema, cfg)
	var fe params.FieldErrors
	if errors.As(err, &fe) {
		msgs := make([]string, 0, len(fe))
		for _, e := range fe {
			msgs = append(msgs, fmt.Sprintf("\n  %s: %s", e.Field, e.Msg))
		}
		slices.Sort(msgs)
		return fmt.Errorf("pack %s: config does not match its %s:%s", p.Ref, configSchemaFile, strings.Join(msgs, ""))
	}
	if err != nil {
		return fmt.Errorf("pack %s: config: %w", p.Ref, err)
	}
	p.Config = out
	return nil
}

// anyMap is m as an any that is nil when m is.
func anyMap(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

// at2 is the position of the first key of a dotted path inside s.
func at2(s scope, path string) at {
	first, _, _ := strings.Cut(path, ".")
	return at{s, first}
}
