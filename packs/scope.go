package packs

import (
	"math"
	"slices"
	"strings"

	"github.com/attune-run/attune/internal/yamlsrc"
)

// scope is one mapping of a yamlDoc, addressed by its key path from the top. Its getters record a
// problem at the key's line when a value has the wrong type and return the zero value.
type scope struct {
	d    *yamlDoc
	path []string
	m    map[string]any
}

// keyPath is the path of key inside s; key "" is s itself.
func (s scope) keyPath(key string) []string {
	p := slices.Clone(s.path)
	if key != "" {
		p = append(p, key)
	}
	return p
}

// name is key's dotted path for messages.
func (s scope) name(key string) string { return dotted(s.keyPath(key)) }

// errorf records a problem at key's line, or at s itself when key is "".
func (s scope) errorf(key, format string, args ...any) {
	line, col := s.d.pos(s.keyPath(key))
	s.d.probs.add(s.d.file, line, col, format, args...)
}

// has reports whether key is given: present, not null and not the empty string. An empty value
// means the same as leaving the key out.
func (s scope) has(key string) bool { return s.m[key] != nil && s.m[key] != "" }

// str returns key's string value, "" when absent or null.
func (s scope) str(key string) string {
	switch v := s.m[key].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		s.errorf(key, "%s must be a string, found %s", s.name(key), yamlsrc.Describe(v))
		return ""
	}
}

// boolean returns key's value, def when absent or null.
func (s scope) boolean(key string, def bool) bool {
	switch v := s.m[key].(type) {
	case nil:
		return def
	case bool:
		return v
	default:
		s.errorf(key, "%s must be true or false, found %s", s.name(key), yamlsrc.Describe(v))
		return def
	}
}

// integer returns key's value and whether it is present and a whole number.
func (s scope) integer(key string) (int, bool) {
	switch v := s.m[key].(type) {
	case nil:
		return 0, false
	case float64:
		if v == math.Trunc(v) && math.Abs(v) <= 1<<53 {
			return int(v), true
		}
	}
	s.errorf(key, "%s must be a whole number, found %s", s.name(key), yamlsrc.Describe(s.m[key]))
	return 0, false
}

// number returns key's value, nil when absent, null or not a number.
func (s scope) number(key string) *float64 {
	switch v := s.m[key].(type) {
	case nil:
		return nil
	case float64:
		return &v
	default:
		s.errorf(key, "%s must be a number, found %s", s.name(key), yamlsrc.Describe(v))
		return nil
	}
}

// mapping returns key's value as a scope, and whether it is present and a mapping.
func (s scope) mapping(key string) (scope, bool) {
	switch v := s.m[key].(type) {
	case nil:
		return scope{}, false
	case map[string]any:
		return scope{d: s.d, path: s.keyPath(key), m: v}, true
	default:
		s.errorf(key, "%s must be a mapping, found %s", s.name(key), yamlsrc.Describe(v))
		return scope{}, false
	}
}

// object returns key's mapping, an empty map when absent or null: the form stored as jsonb.
func (s scope) object(key string) map[string]any {
	if m, ok := s.mapping(key); ok {
		return m.m
	}
	return map[string]any{}
}

// list returns key's value and whether it is present and a list.
func (s scope) list(key string) ([]any, bool) {
	switch v := s.m[key].(type) {
	case nil:
		return nil, false
	case []any:
		return v, true
	default:
		s.errorf(key, "%s must be a list, found %s", s.name(key), yamlsrc.Describe(v))
		return nil, false
	}
}

// oneOf returns key's string value, def when absent, checking it is one of allowed.
func (s scope) oneOf(key, def string, allowed ...string) string {
	if !s.has(key) {
		return def
	}
	v := s.str(key)
	if v == "" {
		return def // not a string, reported
	}
	if !slices.Contains(allowed, v) {
		s.errorf(key, "%s %q is not one of %s", s.name(key), v, strings.Join(allowed, ", "))
		return def
	}
	return v
}

// alias returns the first of keys present in s, "" when none is. Giving more than one is a
// problem, since the file would say the same thing twice.
func (s scope) alias(keys ...string) string {
	var found []string
	for _, k := range keys {
		if s.has(k) {
			found = append(found, k)
		}
	}
	if len(found) == 0 {
		return ""
	}
	for _, k := range found[1:] {
		s.errorf(k, "%s and %s mean the same; keep only one", s.name(found[0]), s.name(k))
	}
	return found[0]
}
