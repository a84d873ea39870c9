package packs

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/internal/yamlsrc"
	"github.com/attune-run/attune/params"
)

// paramTypes are the JSON Schema types a parameter may declare.
var paramTypes = []string{"string", "integer", "number", "boolean", "object", "array"}

// readSchema reads the flat parameter schema at key of s: parameter name to spec. A JSON Schema
// object ({type: object, properties: {...}, required: [...]}) is accepted too and flattened.
func readSchema(s scope, key string) attune.ParamSchema {
	return readSchemaInheriting(s, key, nil)
}

// readSchemaInheriting is readSchema where a parameter named in inherited may leave out its
// type, taking the one given there: StackStorm's actions re-declare their runner's parameters
// (cmd, kwarg_op, sudo) with only a default or immutable.
func readSchemaInheriting(s scope, key string, inherited map[string]string) attune.ParamSchema {
	m, ok := s.mapping(key)
	if !ok {
		return attune.ParamSchema{}
	}
	return readSchemaMapping(m, inherited)
}

// readSchemaMapping reads the parameter schema m: flat (name to spec), or a JSON Schema object.
func readSchemaMapping(m scope, inherited map[string]string) attune.ParamSchema {
	out := attune.ParamSchema{}
	props, required := m, map[string]bool{}
	if t, isJSONSchema := m.m["type"].(string); isJSONSchema {
		m.checkKeys(jsonSchemaKeys)
		if t != "object" {
			m.errorf("type", "%s: a JSON Schema here must have type: object, found %q", m.name(""), t)
			return out
		}
		props, _ = m.mapping("properties")
		names, _ := m.list("required")
		for _, n := range names {
			if s, ok := n.(string); ok {
				required[s] = true
			}
		}
		if props.d == nil {
			return out
		}
	}
	for _, name := range sortedKeys(props.m) {
		if tooLong(name, MaxParamNameLength) {
			props.errorf(name, "parameter name %q is %d characters long; parameter names are at most %d", clip(name), utf8.RuneCountInString(name), MaxParamNameLength)
			continue
		}
		if props.m[name] == nil {
			props.errorf(name, "parameter %q needs a spec, at least {type: string}", name)
			continue
		}
		spec, ok := props.mapping(name)
		if !ok {
			continue
		}
		p := readSpec(spec, name, inherited[name])
		p.Required = p.Required || required[name]
		out[name] = p
	}
	return out
}

// readSpec reads and checks one parameter spec. inheritedType, when not "", is its type when it
// gives none.
func readSpec(s scope, name, inheritedType string) attune.ParamSpec {
	s.checkKeysIn(specKeys, fmt.Sprintf("parameter %q", clip(name)))
	p := attune.ParamSpec{
		Type:        s.str("type"),
		Description: s.description("description"),
		Required:    s.boolean("required", false),
		Secret:      s.boolean("secret", false),
		Pattern:     s.str("pattern"),
		Minimum:     s.number("minimum"),
		Maximum:     s.number("maximum"),
		Default:     s.m["default"],
	}
	if pos, present := s.integer("position"); present {
		if pos < 0 {
			s.errorf("position", "parameter %q: position must be 0 or more, found %d", name, pos)
		}
		p.Position = &pos
	}
	p.Immutable = s.boolean("immutable", false)
	if inheritedType != "" && !s.has("type") {
		p.Type = inheritedType
	}
	switch {
	case p.Type == "" && !s.has("type"):
		s.errorf("", "parameter %q needs a type: one of %s", name, strings.Join(paramTypes, ", "))
	case p.Type != "" && !slices.Contains(paramTypes, p.Type):
		s.errorf("type", "parameter %q has unknown type %q; use one of %s", name, p.Type, strings.Join(paramTypes, ", "))
		p.Type = "" // nothing more to check against
	}
	if enum, ok := s.list("enum"); ok {
		p.Enum = enum
	}
	readNested(s, name, &p)
	checkSpecValues(s, name, p)
	return p
}

// readNested reads a spec's nested schemas: items (a mapping, for an array), properties (a
// mapping of specs, for an object) and additionalProperties (a boolean or a spec). They may
// nest further; values are checked against them when the action runs (params.JSONSchema).
func readNested(s scope, name string, p *attune.ParamSpec) {
	if items, ok := s.mapping("items"); ok {
		if p.Type != "" && p.Type != "array" {
			s.errorf("items", "parameter %q: items applies only to array parameters", name)
		}
		p.Items = items.m
	}
	if props, ok := s.mapping("properties"); ok {
		if p.Type != "" && p.Type != "object" {
			s.errorf("properties", "parameter %q: properties applies only to object parameters", name)
		}
		for _, k := range sortedKeys(props.m) {
			props.mapping(k) // each a mapping
		}
		p.Properties = props.m
	}
	if params.NestedSecret(map[string]any{"items": s.m["items"], "properties": s.m["properties"],
		"additionalProperties": s.m["additionalProperties"]}) != "" {
		p.Secret = true // sealed, masked and kept out of argv whole
	}
	switch v := s.m["additionalProperties"].(type) {
	case nil:
	case bool:
		p.AdditionalProperties = v
	case map[string]any:
		p.AdditionalProperties = v
	default:
		s.errorf("additionalProperties", "parameter %q: additionalProperties must be true, false or a spec, found %s", name, yamlsrc.Describe(v))
	}
}

// checkSpecValues checks that a spec's default, enum, bounds and pattern agree with its type and
// with each other.
func checkSpecValues(s scope, name string, p attune.ParamSpec) {
	numeric := p.Type == "integer" || p.Type == "number"
	if p.Type != "" && !numeric {
		for _, k := range []string{"minimum", "maximum"} {
			if s.has(k) {
				s.errorf(k, "parameter %q: %s applies only to integer and number parameters", name, k)
			}
		}
	}
	if p.Minimum != nil && p.Maximum != nil && *p.Minimum > *p.Maximum {
		s.errorf("minimum", "parameter %q: minimum %v is greater than maximum %v", name, *p.Minimum, *p.Maximum)
	}
	var re *regexp.Regexp
	if p.Pattern != "" {
		var err error
		if re, err = regexp.Compile(p.Pattern); err != nil {
			s.errorf("pattern", "parameter %q: pattern does not compile: %v", name, err)
		}
		if p.Type != "" && p.Type != "string" {
			s.errorf("pattern", "parameter %q: pattern applies only to string parameters", name)
		}
	}
	for _, v := range p.Enum {
		if p.Type != "" && !matchesType(v, p.Type) {
			s.errorf("enum", "parameter %q: enum value %s is not of type %s", name, yamlsrc.Describe(v), p.Type)
		}
	}
	if p.Default == nil || isTemplate(p.Default) {
		return // a template is checked once rendered (StackStorm-shaped actions; see st2defaults.go)
	}
	switch {
	case p.Type != "" && !matchesType(p.Default, p.Type):
		s.errorf("default", "parameter %q: default %s is not of type %s", name, yamlsrc.Describe(p.Default), p.Type)
	case len(p.Enum) > 0 && !slices.ContainsFunc(p.Enum, func(e any) bool { return reflect.DeepEqual(e, p.Default) }):
		s.errorf("default", "parameter %q: default %s is not in enum", name, yamlsrc.Describe(p.Default))
	}
	if f, ok := p.Default.(float64); ok {
		if (p.Minimum != nil && f < *p.Minimum) || (p.Maximum != nil && f > *p.Maximum) {
			s.errorf("default", "parameter %q: default %v is outside minimum/maximum", name, f)
		}
	}
	if str, ok := p.Default.(string); ok && re != nil && !re.MatchString(str) {
		s.errorf("default", "parameter %q: default %q does not match pattern", name, str)
	}
}

// matchesType reports whether the JSON value v is of the JSON Schema type t.
func matchesType(v any, t string) bool {
	switch v := v.(type) {
	case string:
		return t == "string"
	case bool:
		return t == "boolean"
	case float64:
		return t == "number" || (t == "integer" && v == math.Trunc(v))
	case map[string]any:
		return t == "object"
	case []any:
		return t == "array"
	}
	return false
}
