package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
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
