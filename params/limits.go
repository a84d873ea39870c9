package params

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/attune-run/attune"
)

// CheckDepth returns an error when v, a JSON-shaped value (maps, slices and scalars), nests
// objects and lists more than max levels deep; v itself, when an object or list, is level 1.
// what names v in the error ("payload", "parameters"), which gives the path to the first
// level too deep and wraps attune.ErrInvalid. The walk stops at the limit, so a value of any
// depth is checked in bounded time and stack.
func CheckDepth(what string, v any, max int) error {
	if path, deep := tooDeep(what, v, max); deep {
		return depthError(what, "at "+clipPath(path), max)
	}
	return nil
}

// tooDeep reports whether v nests more than max levels, and the path of the first level over.
func tooDeep(path string, v any, max int) (string, bool) {
	switch v := v.(type) {
	case map[string]any:
		if max == 0 {
			return path, true
		}
		for k, e := range v {
			if p, deep := tooDeep(childPath(path, k), e, max-1); deep {
				return p, true
			}
		}
	case []any:
		if max == 0 {
			return path, true
		}
		for i, e := range v {
			if p, deep := tooDeep(path+"["+strconv.Itoa(i)+"]", e, max-1); deep {
				return p, true
			}
		}
	}
	return "", false
}

// childPath appends a key to a path: `.key` for a plain key, `["odd key"]` otherwise.
func childPath(path, key string) string {
	for _, r := range key {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return path + "[" + strconv.Quote(key) + "]"
		}
	}
	if key == "" {
		return path + `[""]`
	}
	return path + "." + key
}

// clipPath shortens a long path for an error message, keeping its start.
func clipPath(path string) string {
	const keep = 100
	if len(path) <= keep {
		return path
	}
	cut := keep
	for cut > 0 && !utf8.RuneStart(path[cut]) {
		cut--
	}
	return path[:cut] + "…"
}

// CheckJSONDepth is CheckDepth for JSON text: it scans data's brackets without decoding it, so
// a body nested ten thousand levels deep is rejected before a decoder builds it. The error
// gives the line and column where the first level too deep opens. Malformed JSON is left to
// the decoder.
func CheckJSONDepth(what string, data []byte, max int) error {
	depth, inString, escaped := 0, false, false
	line, col := 1, 0
	for _, c := range data {
		col++
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return depthError(what, fmt.Sprintf("at line %d, column %d", line, col), max)
			}
		case c == '}' || c == ']':
			depth--
		case c == '\n':
			line, col = line+1, 0
		}
	}
	return nil
}

// depthError says that what nests too deeply, where.
func depthError(what, where string, max int) error {
	return &limitError{msg: fmt.Sprintf("%s: nested more than %d levels deep (%s); attune accepts at most %d levels of objects and lists: flatten the data, or pass the deep part as a JSON string",
		what, max, where, max)}
}

// CheckPayload checks an event payload against attune.MaxNestingDepth and
// attune.MaxPayloadBytes; the error wraps attune.ErrInvalid.
func CheckPayload(payload map[string]any) error {
	if err := CheckDepth("payload", payload, attune.MaxNestingDepth); err != nil {
		return err
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return &limitError{msg: "payload: " + err.Error()}
	}
	if len(b) > attune.MaxPayloadBytes {
		return &limitError{msg: fmt.Sprintf("payload: %d bytes as JSON, over the limit of %d (1 MiB); send a reference to large data (a URL, a path) instead of the data",
			len(b), attune.MaxPayloadBytes)}
	}
	return nil
}

// limitError is input over one of attune's limits; it wraps attune.ErrInvalid.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

// Unwrap returns attune.ErrInvalid.
func (e *limitError) Unwrap() error { return attune.ErrInvalid }
