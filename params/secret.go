package params

import (
	"cmp"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/attune-run/attune"
)

// Mask stands in for a secret value wherever parameters, results or messages are stored or shown.
const Mask = "********"

// Secrets lists the names of the parameters s marks secret, sorted.
func Secrets(s attune.ParamSchema) []string {
	var names []string
	for name, spec := range s {
		if spec.Secret {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// Redact returns a copy of params in which every secret parameter that is present is Mask.
// params is not modified.
func Redact(params map[string]any, s attune.ParamSchema) map[string]any {
	if params == nil {
		return nil
	}
	out := make(map[string]any, len(params))
	for k, v := range params {
		if s[k].Secret {
			v = Mask
		}
		out[k] = v
	}
	return out
}

// SecretValues returns the secret parameters present in params, for sealing; nil when there
// are none.
func SecretValues(params map[string]any, s attune.ParamSchema) map[string]any {
	var out map[string]any
	for k, v := range params {
		if s[k].Secret {
			if out == nil {
				out = map[string]any{}
			}
			out[k] = v
		}
	}
	return out
}

// Scrubber replaces secret values wherever they appear in an action's output: stdout, stderr,
// the error line and the parsed data. A secret that is a string is found as it is and as it
// reads inside a JSON string (escaped); a number, object or array is found as its JSON text,
// and the strings and numbers inside an object or array are found one by one.
type Scrubber struct {
	needles []string  // longest first, so a secret containing another is replaced whole
	numbers []float64 // numeric secrets, matched whole in parsed data
}

// NewScrubber returns a Scrubber for the given secret values (parameter name to value). A nil
// or empty map gives a Scrubber that changes nothing. Booleans and null are not secrets worth
// the name and are not scrubbed (every true in the output would go).
func NewScrubber(secrets map[string]any) *Scrubber {
	sc := &Scrubber{}
	var add func(v any, top bool)
	add = func(v any, top bool) {
		switch v := v.(type) {
		case string:
			sc.addString(v)
		case float64:
			sc.numbers = append(sc.numbers, v)
			sc.addString(strconv.FormatFloat(v, 'f', -1, 64))
		case map[string]any:
			for _, e := range v {
				add(e, false)
			}
		case []any:
			for _, e := range v {
				add(e, false)
			}
		}
		switch v.(type) {
		case map[string]any, []any:
			if b, err := json.Marshal(v); err == nil && top {
				sc.addString(string(b))
			}
		}
	}
	for _, v := range secrets {
		add(v, true)
	}
	slices.SortFunc(sc.needles, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	sc.needles = slices.Compact(sc.needles)
	return sc
}

func (sc *Scrubber) addString(s string) {
	if s == "" {
		return
	}
	sc.needles = append(sc.needles, s)
	if b, err := json.Marshal(s); err == nil {
		if esc := string(b[1 : len(b)-1]); esc != s {
			sc.needles = append(sc.needles, esc)
		}
	}
}

// Empty reports whether there is nothing to scrub.
func (sc *Scrubber) Empty() bool { return len(sc.needles) == 0 }

// String replaces every secret in s with Mask.
func (sc *Scrubber) String(s string) string {
	for _, n := range sc.needles {
		if strings.Contains(s, n) {
			s = strings.ReplaceAll(s, n, Mask)
		}
	}
	return s
}

// Value returns a copy of a JSON-like value (maps, slices, strings, numbers) with every secret
// replaced by Mask: in strings, in map keys, and numbers equal to a numeric secret.
func (sc *Scrubber) Value(v any) any {
	switch v := v.(type) {
	case float64:
		if slices.Contains(sc.numbers, v) {
			return Mask
		}
	case string:
		return sc.String(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[sc.String(k)] = sc.Value(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = sc.Value(e)
		}
		return out
	}
	return v
}

// Longest is the length in bytes of the longest text the Scrubber replaces; 0 when it is empty.
// A stream scrubbed piece by piece must hold back Longest()-1 bytes at the end of each piece,
// so a secret split across two pieces is still found whole.
func (sc *Scrubber) Longest() int {
	if len(sc.needles) == 0 {
		return 0
	}
	return len(sc.needles[0]) // sorted longest first
}
