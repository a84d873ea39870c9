package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// briefMax is how many bytes of a value an Outcome reason or error message shows.
const briefMax = 120

// brief renders v as compact JSON for a reason or an error message, shortened to briefMax bytes.
func brief(v any) string {
	s, err := jsonText(v)
	if err != nil {
		s = fmt.Sprintf("%v", v)
	}
	if len(s) <= briefMax {
		return s
	}
	cut := briefMax
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// jsonText renders v as compact JSON without HTML escaping.
func jsonText(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// interpolate renders the value of one template inside a longer string: strings as they are,
// nil as nothing, times as RFC 3339, everything else (numbers, bools, maps, slices) as compact JSON.
func interpolate(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case time.Time:
		return v.Format(time.RFC3339Nano), nil
	case time.Duration:
		return v.String(), nil
	}
	return jsonText(v)
}

// jsonShape returns v as a JSON value (nil, bool, string, number, map[string]any, []any), so a
// whole template's result is what a JSON document would hold: times become RFC 3339 text and
// durations their text (as they interpolate), and other Go values, such as the []string that
// split returns, go through JSON. Numbers keep their Go type.
func jsonShape(v any) (any, error) {
	switch v := v.(type) {
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%v is not a JSON number", v)
		}
		return v, nil
	case nil, bool, string, json.Number, float32, int, int8, int16, int32, int64,
		uint, uint8, uint16, uint32, uint64:
		return v, nil
	case time.Time:
		return v.Format(time.RFC3339Nano), nil
	case time.Duration:
		return v.String(), nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			s, err := jsonShape(e)
			if err != nil {
				return nil, err
			}
			out[k] = s
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			s, err := jsonShape(e)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("the value (%T) has no JSON form: %w", v, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("the value (%T) has no JSON form: %w", v, err)
	}
	return out, nil
}
