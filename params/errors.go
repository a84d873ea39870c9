package params

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/attune-run/attune"
)

// FieldError is what is wrong with one parameter.
type FieldError struct {
	Field string // the parameter's name
	Msg   string // e.g. "must be <= 3600, got 5000", "required", "unknown parameter (known: a, b)"

	missing bool // Msg is "required"
}

// Error returns "field: message".
func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// FieldErrors is every field error of one set of parameters, sorted by field. It unwraps to
// attune.ErrInvalid.
type FieldErrors []FieldError

// Error lists the field errors on one line, separated by "; ", so it fits an enforcement's
// reason or an execution's error. Print the elements for one per line.
func (e FieldErrors) Error() string {
	s := make([]string, len(e))
	for i, fe := range e {
		s[i] = fe.Error()
	}
	return strings.Join(s, "; ")
}

// Unwrap returns attune.ErrInvalid.
func (e FieldErrors) Unwrap() error { return attune.ErrInvalid }

func (e FieldErrors) sorted() FieldErrors {
	slices.SortFunc(e, func(a, b FieldError) int { return cmp.Or(cmp.Compare(a.Field, b.Field), cmp.Compare(a.Msg, b.Msg)) })
	return slices.Compact(e)
}

// fieldErrors turns a jsonschema validation error about params into field errors.
func fieldErrors(err error, c *compiled, params map[string]any) FieldErrors {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return FieldErrors{{Field: "(parameters)", Msg: err.Error()}}
	}
	var out FieldErrors
	var walk func(*jsonschema.ValidationError)
	walk = func(ve *jsonschema.ValidationError) {
		if len(ve.Causes) > 0 {
			for _, c := range ve.Causes {
				walk(c)
			}
			return
		}
		out = append(out, describeError(ve, c, params)...)
	}
	walk(ve)
	return out.sorted()
}

// describeError writes the message of one leaf validation error. The value of a secret
// parameter is never quoted.
func describeError(ve *jsonschema.ValidationError, c *compiled, params map[string]any) FieldErrors {
	field := strings.Join(ve.InstanceLocation, ".")
	var got string
	if len(ve.InstanceLocation) > 0 {
		name := ve.InstanceLocation[0]
		if c.flat[name].Secret {
			got = typeName(params[name]) + " (secret, not shown)"
		} else {
			got = show(valueAt(params, ve.InstanceLocation))
		}
	}
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		out := make(FieldErrors, len(k.Missing))
		for i, name := range k.Missing {
			out[i] = FieldError{Field: nestedField(field, name), Msg: "required", missing: true}
		}
		return out
	case *kind.AdditionalProperties:
		out := make(FieldErrors, len(k.Properties))
		for i, name := range k.Properties {
			if field != "" { // inside a parameter's nested schema
				out[i] = FieldError{Field: nestedField(field, name), Msg: "unknown key"}
				continue
			}
			out[i] = unknown(name, c.flat)
		}
		return out
	case *kind.Type:
		return FieldErrors{{Field: field, Msg: fmt.Sprintf("must be %s, got %s", article(strings.Join(k.Want, " or ")), got)}}
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = show(w)
		}
		return FieldErrors{{Field: field, Msg: fmt.Sprintf("must be one of %s, got %s", strings.Join(want, ", "), got)}}
	case *kind.Minimum:
		return FieldErrors{{Field: field, Msg: fmt.Sprintf("must be >= %s, got %s", ratString(k.Want.FloatString(6)), got)}}
	case *kind.Maximum:
		return FieldErrors{{Field: field, Msg: fmt.Sprintf("must be <= %s, got %s", ratString(k.Want.FloatString(6)), got)}}
	case *kind.Pattern:
		return FieldErrors{{Field: field, Msg: fmt.Sprintf("must match the pattern %s, got %s", k.Want, got)}}
	default:
		msg := ve.Error()
		if c.flat[field].Secret {
			msg = "does not match the schema (secret, value not shown)"
		}
		return FieldErrors{{Field: field, Msg: msg}}
	}
}

// valueAt is the value at a JSON location in params (nil when there is none).
func valueAt(params map[string]any, loc []string) any {
	var v any = params
	for _, k := range loc {
		switch c := v.(type) {
		case map[string]any:
			v = c[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// unknown is the error of a parameter the schema does not declare.
func unknown(name string, s attune.ParamSchema) FieldError {
	if len(s) == 0 {
		return FieldError{Field: name, Msg: "unknown parameter (the action takes no parameters)"}
	}
	known := make([]string, 0, len(s))
	for k := range s {
		known = append(known, k)
	}
	slices.Sort(known)
	return FieldError{Field: name, Msg: "unknown parameter (known: " + strings.Join(known, ", ") + ")"}
}

// article names a JSON Schema type for a message: "an integer", "a string", "true or false".
func article(t string) string {
	switch t {
	case "integer", "object", "array":
		return "an " + t
	case "boolean":
		return "true or false"
	default:
		return "a " + t
	}
}

// typeName names the JSON type of a value.
func typeName(v any) string {
	switch v := v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64:
		if v == float64(int64(v)) {
			return "an integer"
		}
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// maxShown bounds a value quoted in a message.
const maxShown = 60

// show renders a value as JSON for a message, cut to maxShown bytes.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) > maxShown {
		s = s[:maxShown] + "…"
	}
	return s
}

// ratString trims the zeros FloatString pads with: "3600.000000" -> "3600", "0.500000" -> "0.5".
func ratString(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// nestedField names key inside the parameter value at field ("" at the top).
func nestedField(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}
