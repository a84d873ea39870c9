package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// payloadAliases are the prefixes a criteria field may start with to say "in the event payload".
// They are stripped: "trigger.level", "payload.level", "event.payload.level" and "level" all name
// the same field. A payload key literally named "payload" is reached as "payload.payload".
var payloadAliases = []string{"event.payload", "trigger", "payload"}

// fieldPath is a parsed criteria field: the keys (or slice indexes) to follow from the payload.
// An empty fieldPath names the whole payload.
type fieldPath []string

// itemAliases are the prefixes a field inside a search pattern may start with to say "in the
// list item": "item.name" (StackStorm's spelling) and "name" name the same field, and "item" the
// item itself.
var itemAliases = []string{"item"}

// parseField parses a criteria field such as `level`, `trigger.user.name`, `tags.0`, `tags[0]` or
// `headers['X-Request-Id']`, stripping one leading alias.
func parseField(field string, aliases []string) (fieldPath, error) {
	if strings.TrimSpace(field) == "" {
		return nil, fmt.Errorf("is empty; name a payload field such as \"level\" or \"user.name\"")
	}
	s := stripAlias(field, aliases)
	path := fieldPath{}
	for s != "" {
		var seg string
		var err error
		if s[0] == '[' {
			seg, s, err = bracketSegment(s)
		} else {
			seg, s, err = dottedSegment(s)
		}
		if err != nil {
			return nil, fmt.Errorf("%q: %w", field, err)
		}
		path = append(path, seg)
		if strings.HasPrefix(s, ".") {
			s = s[1:]
			if s == "" {
				return nil, fmt.Errorf("%q: ends with a dot", field)
			}
		}
	}
	return path, nil
}

// stripAlias removes one leading alias from field.
func stripAlias(field string, aliases []string) string {
	for _, alias := range aliases {
		switch {
		case field == alias:
			return ""
		case strings.HasPrefix(field, alias+"."):
			return field[len(alias)+1:]
		case strings.HasPrefix(field, alias+"["):
			return field[len(alias):]
		}
	}
	return field
}

// dottedSegment reads a plain key up to the next '.' or '['.
func dottedSegment(s string) (seg, rest string, err error) {
	end := strings.IndexAny(s, ".[")
	if end < 0 {
		end = len(s)
	}
	if end == 0 {
		return "", "", fmt.Errorf("has an empty segment")
	}
	return s[:end], s[end:], nil
}

// bracketSegment reads `['key']`, `["key"]` or `[0]`.
func bracketSegment(s string) (seg, rest string, err error) {
	if len(s) > 1 && (s[1] == '\'' || s[1] == '"') {
		quote := s[1]
		end := strings.IndexByte(s[2:], quote)
		if end < 0 || !strings.HasPrefix(s[2+end+1:], "]") {
			return "", "", fmt.Errorf("has an unterminated [%c…%c]", quote, quote)
		}
		return s[2 : 2+end], s[2+end+2:], nil
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return "", "", fmt.Errorf("has an unterminated [")
	}
	if _, err := strconv.Atoi(s[1:end]); err != nil {
		return "", "", fmt.Errorf("has [%s]; quote keys (['key']) or use an index ([0])", s[1:end])
	}
	return s[1:end], s[end+1:], nil
}

// lookup follows p from v. It reports false when a key or index is absent or a value on the way
// is neither a map nor a slice.
func (p fieldPath) lookup(v any) (any, bool) {
	for _, seg := range p {
		switch node := v.(type) {
		case map[string]any:
			next, ok := node[seg]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(node) {
				return nil, false
			}
			v = node[i]
		default:
			return nil, false
		}
	}
	return v, true
}
