package packs

// MergeConfig returns a pack's effective configuration, what templates see as pack.config:
// the defaults of its pack.yaml `config`, overridden by the site's override (attune's
// packs.config.<pack>). They are merged key by key: a mapping in both is merged the same way,
// and any other value in override, null included, replaces the default. Neither argument is
// changed; the result shares nothing with them.
func MergeConfig(defaults, override map[string]any) map[string]any {
	out := make(map[string]any, len(defaults)+len(override))
	for k, v := range defaults {
		out[k] = deepCopy(v)
	}
	for k, v := range override {
		d, dIsMap := out[k].(map[string]any)
		o, oIsMap := v.(map[string]any)
		if dIsMap && oIsMap {
			out[k] = MergeConfig(d, o)
			continue
		}
		out[k] = deepCopy(v)
	}
	return out
}

// deepCopy copies the maps and lists of a JSON-like value.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return MergeConfig(v, nil)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	default:
		return v
	}
}
