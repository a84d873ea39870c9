package params

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/attune-run/attune"
)

// JSONSchema returns the JSON Schema object a flat schema stands for:
//
//	{"type": "object", "additionalProperties": false,
//	 "properties": {name: {type, description, default, enum, minimum, maximum, pattern}},
//	 "required": [names]}
//
// required, secret and description are not validated by JSON Schema keywords of their own
// property: required names go to the object's required list, secret is for Redact.
func JSONSchema(s attune.ParamSchema) map[string]any {
	props := map[string]any{}
	var required []string
	for name, spec := range s {
		p := map[string]any{}
		if spec.Type != "" {
			p["type"] = spec.Type
		}
		if spec.Description != "" {
			p["description"] = spec.Description
		}
		if spec.Default != nil {
			p["default"] = spec.Default
		}
		if len(spec.Enum) > 0 {
			p["enum"] = spec.Enum
		}
		if spec.Minimum != nil {
			p["minimum"] = *spec.Minimum
		}
		if spec.Maximum != nil {
			p["maximum"] = *spec.Maximum
		}
		if spec.Pattern != "" {
			p["pattern"] = spec.Pattern
		}
		nestedInto(p, spec.Items, spec.Properties, spec.AdditionalProperties)
		props[name] = p
		if spec.Required {
			required = append(required, name)
		}
	}
	sort.Strings(required)
	doc := map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"type":                 "object",
		"additionalProperties": false,
		"properties":           props,
	}
	if len(required) > 0 {
		doc["required"] = required
	}
	return doc
}

// compiled is a schema ready to validate with.
type compiled struct {
	flat attune.ParamSchema
	js   *jsonschema.Schema
}

// cache holds compiled schemas by the SHA-256 of their JSON encoding, so each version of an
// action's schema is compiled once per process, whichever action or replica step asks.
var cache struct {
	sync.Mutex
	m map[[32]byte]*compiled
}

// cacheLimit bounds the cache; past it the cache starts over (schemas are few: one per action
// version).
const cacheLimit = 4096

// compile returns the compiled form of s, from the cache when it was compiled before.
func compile(s attune.ParamSchema) (*compiled, error) {
	raw, err := json.Marshal(s) // map keys sorted: equal schemas encode equally
	if err != nil {
		return nil, fmt.Errorf("parameter schema cannot be written as JSON: %w", err)
	}
	key := sha256.Sum256(raw)
	cache.Lock()
	c, ok := cache.m[key]
	cache.Unlock()
	if ok {
		return c, nil
	}
	doc, err := normalize(JSONSchema(s))
	if err != nil {
		return nil, fmt.Errorf("parameter schema cannot be written as JSON: %w", err)
	}
	jc := jsonschema.NewCompiler()
	const url = "attune-params.json"
	if err := jc.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("parameter schema: %w", err)
	}
	js, err := jc.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("parameter schema does not compile: %w", err)
	}
	c = &compiled{flat: s, js: js}
	cache.Lock()
	if cache.m == nil || len(cache.m) >= cacheLimit {
		cache.m = map[[32]byte]*compiled{}
	}
	cache.m[key] = c
	cache.Unlock()
	return c, nil
}

// Check reports whether a schema compiles: its patterns are valid regular expressions and its
// values are JSON. The pack loader checks the same with positions; Check is for schemas that
// come from elsewhere.
func Check(s attune.ParamSchema) error {
	_, err := compile(s)
	return err
}

// normalize returns v as encoding/json would decode its encoding: maps are map[string]any,
// lists []any, numbers float64. It is also a deep copy.
func normalize[T any](v T) (T, error) {
	var out T
	b, err := json.Marshal(v)
	if err != nil {
		return out, err
	}
	err = json.Unmarshal(b, &out)
	return out, err
}
