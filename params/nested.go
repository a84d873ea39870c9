package params

import (
	"maps"
	"slices"

	"github.com/attune-run/attune"
)

// nestedKeys are the JSON Schema keys a nested spec keeps; StackStorm's own (secret, position,
// immutable, required: true) and unknown ones are left out of the schema values are checked
// against.
var nestedKeys = []string{"type", "description", "default", "enum", "minimum", "maximum", "pattern",
	"minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "format"}

// nestedInto adds the nested schemas of a parameter to its JSON Schema p.
func nestedInto(p map[string]any, items, properties map[string]any, additional any) {
	if items != nil {
		p["items"] = nestedSchema(items)
	}
	if properties != nil {
		props, required := nestedProperties(properties)
		p["properties"] = props
		if len(required) > 0 {
			p["required"] = required
		}
	}
	switch a := additional.(type) {
	case bool:
		p["additionalProperties"] = a
	case map[string]any:
		p["additionalProperties"] = nestedSchema(a)
	}
}

// nestedSchema turns one nested spec in StackStorm's shape into JSON Schema.
func nestedSchema(spec map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range nestedKeys {
		if v, ok := spec[k]; ok && v != nil {
			out[k] = v
		}
	}
	items, _ := spec["items"].(map[string]any)
	props, _ := spec["properties"].(map[string]any)
	nestedInto(out, items, props, spec["additionalProperties"])
	return out
}

// nestedProperties converts properties and collects the names marked required: true.
func nestedProperties(properties map[string]any) (map[string]any, []string) {
	out := make(map[string]any, len(properties))
	var required []string
	for _, name := range slices.Sorted(maps.Keys(properties)) {
		spec, _ := properties[name].(map[string]any)
		if spec == nil {
			out[name] = map[string]any{}
			continue
		}
		if r, _ := spec["required"].(bool); r {
			required = append(required, name)
		}
		out[name] = nestedSchema(spec)
	}
	return out, required
}

// NestedSecret returns the path of the first spec marked secret: true inside a parameter's
// nested schemas ("items.properties.password"), or "" when none is.
func NestedSecret(spec map[string]any) string {
	if s, _ := spec["secret"].(bool); s {
		return "."
	}
	if items, ok := spec["items"].(map[string]any); ok {
		if p := NestedSecret(items); p != "" {
			return join("items", p)
		}
	}
	if props, ok := spec["properties"].(map[string]any); ok {
		for _, name := range slices.Sorted(maps.Keys(props)) {
			if sub, ok := props[name].(map[string]any); ok {
				if p := NestedSecret(sub); p != "" {
					return join("properties."+name, p)
				}
			}
		}
	}
	if add, ok := spec["additionalProperties"].(map[string]any); ok {
		if p := NestedSecret(add); p != "" {
			return join("additionalProperties", p)
		}
	}
	return ""
}

func join(head, tail string) string {
	if tail == "." {
		return head
	}
	return head + "." + tail
}

// SecretParts returns the parts of a value v of a parameter with spec that are secret: v
// itself when the spec says secret: true, else the parts its nested schemas mark secret (the
// password of each account in a list of accounts), for scrubbing output.
func SecretParts(v any, spec attune.ParamSpec) []any {
	if spec.Secret && NestedSecret(specMap(spec)) == "" || v == nil {
		return []any{v}
	}
	return secretParts(v, specMap(spec))
}

// specMap is a spec's nested schemas as one nested spec.
func specMap(spec attune.ParamSpec) map[string]any {
	m := map[string]any{}
	if spec.Items != nil {
		m["items"] = spec.Items
	}
	if spec.Properties != nil {
		m["properties"] = spec.Properties
	}
	if spec.AdditionalProperties != nil {
		m["additionalProperties"] = spec.AdditionalProperties
	}
	return m
}

func secretParts(v any, spec map[string]any) []any {
	if s, _ := spec["secret"].(bool); s {
		return []any{v}
	}
	var out []any
	switch v := v.(type) {
	case []any:
		if items, ok := spec["items"].(map[string]any); ok {
			for _, e := range v {
				out = append(out, secretParts(e, items)...)
			}
		}
	case map[string]any:
		props, _ := spec["properties"].(map[string]any)
		add, _ := spec["additionalProperties"].(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if sub, ok := props[k].(map[string]any); ok {
				out = append(out, secretParts(v[k], sub)...)
			} else if add != nil {
				out = append(out, secretParts(v[k], add)...)
			}
		}
	}
	return out
}
