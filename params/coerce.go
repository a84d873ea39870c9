package params

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/attune-run/attune"
)

// Coerce converts the string values of the named parameters to their declared type where the
// conversion is unambiguous, as StackStorm casts command-line parameters: "5" becomes 5 for an
// integer, "2.5" becomes 2.5 for a number, "true"/"false" (any case) become booleans, and text
// that parses as a JSON object or array becomes one for an object or array parameter. A value
// that does not convert is left as it is, for validation to report. Only the names listed are
// touched: the command line passes key=value as a string, and key:=JSON is never coerced.
// params is not modified.
func Coerce(s attune.ParamSchema, params map[string]any, names []string) map[string]any {
	out := make(map[string]any, len(params))
	for k, v := range params {
		out[k] = v
	}
	for _, name := range names {
		str, ok := out[name].(string)
		spec, declared := s[name]
		if !ok || !declared {
			continue
		}
		if v, ok := coerceString(spec.Type, str); ok {
			out[name] = v
		}
	}
	return out
}

// coerceString converts one string to type t, reporting whether it did.
func coerceString(t, s string) (any, bool) {
	trimmed := strings.TrimSpace(s)
	switch t {
	case "integer":
		n, err := strconv.ParseInt(trimmed, 10, 64)
		if err != nil || n > 1<<53 || n < -(1<<53) {
			return nil, false // exactly representable in JSON's float64 only
		}
		return float64(n), true
	case "number":
		f, err := strconv.ParseFloat(trimmed, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, false
		}
		return f, true
	case "boolean":
		switch strings.ToLower(trimmed) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	case "object":
		var m map[string]any
		if json.Unmarshal([]byte(trimmed), &m) == nil && m != nil {
			return m, true
		}
	case "array":
		var a []any
		if json.Unmarshal([]byte(trimmed), &a) == nil && a != nil {
			return a, true
		}
	}
	return nil, false
}
