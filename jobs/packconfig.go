package jobs

import (
	"fmt"
	"maps"
	"strings"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/params"
	"github.com/attune-run/attune/secrets"
)

// SealPackConfig moves the values of pack's secret config keys (secret: true in its
// config.schema.yaml) out of pack.Config into pack.SealedConfig, sealed under the secrets key,
// and leaves them masked in pack.Config, which is stored and shown. A pack already sealed is
// left alone. A secret value with no secrets key configured is an error wrapping
// secrets.ErrNoKey; errors never hold a secret's value.
func (p *Pipeline) SealPackConfig(pack *attune.Pack) error {
	if pack.SealedConfig != nil {
		return nil
	}
	vals := params.SecretValues(pack.Config, pack.ConfigSchema)
	if vals == nil {
		return nil
	}
	if p.Secrets == nil {
		return fmt.Errorf("pack %s: config keys marked secret in config.schema.yaml (%s) are set: %w",
			pack.Ref, strings.Join(params.Secrets(pack.ConfigSchema), ", "), secrets.ErrNoKey)
	}
	var scrub []any // the secret parts: all of a secret key, or what its nested schema marks secret
	for _, k := range params.Secrets(pack.ConfigSchema) {
		if v, ok := vals[k]; ok {
			scrub = append(scrub, params.SecretParts(v, pack.ConfigSchema[k])...)
		}
	}
	sealed, err := p.Secrets.SealJSON(sealedConfig{Values: vals, Scrub: scrub})
	if err != nil {
		return fmt.Errorf("pack %s: seal secret config values: %w", pack.Ref, err)
	}
	pack.Config = params.Redact(pack.Config, pack.ConfigSchema)
	pack.SealedConfig = sealed
	return nil
}

// sealedConfig is what attune.Pack.SealedConfig holds, sealed.
type sealedConfig struct {
	Values map[string]any `json:"values"` // the secret keys' values
	Scrub  []any          `json:"scrub"`  // their secret parts, scrubbed from output
}

// openPackConfig returns pack's config with its sealed secret values opened and merged back,
// for the one action of the pack that runs, and their secret parts, for the scrubber.
func (p *Pipeline) openPackConfig(pack attune.Pack) (config, secretVals map[string]any, err error) {
	if len(pack.SealedConfig) == 0 {
		return pack.Config, nil, nil
	}
	if p.Secrets == nil {
		return pack.Config, nil, fmt.Errorf("pack %s has secret config values, but worker %s has no secrets.key: "+
			"set the same secrets.key on every replica", pack.Ref, p.Worker)
	}
	var sc sealedConfig
	if err := p.Secrets.OpenJSON(pack.SealedConfig, &sc); err != nil {
		return pack.Config, nil, fmt.Errorf("open the secret config values of pack %s: %w", pack.Ref, err)
	}
	config = maps.Clone(pack.Config)
	if config == nil {
		config = map[string]any{}
	}
	maps.Copy(config, sc.Values)
	scrub := map[string]any{}
	for i, v := range sc.Scrub {
		scrub[fmt.Sprint(i)] = v
	}
	return config, scrub, nil
}
