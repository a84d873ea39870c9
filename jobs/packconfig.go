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
	sealed, err := p.Secrets.SealJSON(vals)
	if err != nil {
		return fmt.Errorf("pack %s: seal secret config values: %w", pack.Ref, err)
	}
	pack.Config = params.Redact(pack.Config, pack.ConfigSchema)
	pack.SealedConfig = sealed
	return nil
}

// openPackConfig returns pack's config with its sealed secret values opened and merged back,
// for the one action of the pack that runs, and those values, for the scrubber.
func (p *Pipeline) openPackConfig(pack attune.Pack) (config, secretVals map[string]any, err error) {
	if len(pack.SealedConfig) == 0 {
		return pack.Config, nil, nil
	}
	if p.Secrets == nil {
		return pack.Config, nil, fmt.Errorf("pack %s has secret config values, but worker %s has no secrets.key: "+
			"set the same secrets.key on every replica", pack.Ref, p.Worker)
	}
	if err := p.Secrets.OpenJSON(pack.SealedConfig, &secretVals); err != nil {
		return pack.Config, nil, fmt.Errorf("open the secret config values of pack %s: %w", pack.Ref, err)
	}
	config = maps.Clone(pack.Config)
	if config == nil {
		config = map[string]any{}
	}
	maps.Copy(config, secretVals)
	return config, secretVals, nil
}
