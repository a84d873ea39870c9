package params

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/attune-run/attune"
)

// Apply returns params with defaults applied, after validating the result against s. params is
// not modified; the result is a deep copy in JSON form (numbers are float64). When validation
// fails the error is FieldErrors, listing every field at fault; a schema that does not compile
// is an error wrapping attune.ErrInvalid.
func Apply(s attune.ParamSchema, params map[string]any) (map[string]any, error) {
	c, err := compile(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", attune.ErrInvalid, err)
	}
	out, err := normalize(params)
	if err != nil {
		return nil, fmt.Errorf("%w: parameters cannot be written as JSON: %v", attune.ErrInvalid, err)
	}
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range out {
		if v == nil {
			delete(out, k) // null counts as not given
		}
	}
	var immutable FieldErrors
	for name, spec := range s {
		if v, given := out[name]; given && spec.Immutable {
			if def, err := normalize(spec.Default); err != nil || !reflect.DeepEqual(def, v) {
				immutable = append(immutable, FieldError{Field: name, Msg: "immutable: it always has its default; leave it out"})
			}
		}
	}
	if len(immutable) > 0 {
		return nil, immutable.sorted()
	}
	for name, spec := range s {
		if _, given := out[name]; given || spec.Default == nil {
			continue
		}
		def, err := normalize(spec.Default)
		if err != nil {
			return nil, fmt.Errorf("%w: default of parameter %s cannot be written as JSON: %v", attune.ErrInvalid, name, err)
		}
		out[name] = def
	}
	if err := c.js.Validate(out); err != nil {
		return nil, fieldErrors(err, c, out)
	}
	return out, nil
}

// CheckLiteral validates a rule's action parameters when the rule is registered, before any
// event renders them. A parameter whose value holds a template ("{{" anywhere in it) is checked
// only for being declared; its value is checked when an event renders it. Every other value is
// checked as Apply would, and a required parameter must be given unless it has a default. The
// error is FieldErrors, or nil.
func CheckLiteral(s attune.ParamSchema, params map[string]any) error {
	literal := map[string]any{}
	templated := map[string]bool{}
	for k, v := range params {
		if hasTemplate(v) {
			templated[k] = true
			continue
		}
		literal[k] = v
	}
	_, err := Apply(s, literal)
	var fe FieldErrors
	if err != nil && !errors.As(err, &fe) {
		return err
	}
	var out FieldErrors
	for _, e := range fe {
		if !(e.missing && templated[e.Field]) {
			out = append(out, e)
		}
	}
	for k := range templated {
		spec, ok := s[k]
		switch {
		case !ok:
			out = append(out, unknown(k, s))
		case spec.Immutable:
			out = append(out, FieldError{Field: k, Msg: "immutable: it always has its default; leave it out"})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out.sorted()
}

// hasTemplate reports whether a value holds "{{" in any string inside it.
func hasTemplate(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.Contains(v, "{{")
	case map[string]any:
		for _, e := range v {
			if hasTemplate(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasTemplate(e) {
				return true
			}
		}
	}
	return false
}
