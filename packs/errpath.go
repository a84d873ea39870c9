package packs

import (
	"strconv"
	"strings"
)

// errorAtField records err as a problem at the field it names. The rules and schedule packages
// start their errors with the path of the field at fault, rooted at root: criteria[0].operator,
// criteria["trigger.level"].type, action_params.items[0].name, trigger_params.fire_at. That path
// is followed inside the value at a, as far as the file has it; a message without one is
// reported at a.
func (a at) errorAtField(root string, err error) {
	path := a.s.keyPath(a.key)
	path = append(path, fieldPath(err.Error(), root)...)
	line, col := a.s.d.pos(path)
	a.s.d.probs.add(a.s.d.file, line, col, "%v", err)
}

// fieldPath parses the path after root at the start of msg into keys and list indexes; nil when
// msg does not start with root followed by a path.
func fieldPath(msg, root string) []string {
	rest, ok := strings.CutPrefix(msg, root)
	if !ok {
		return nil
	}
	var path []string
	for len(rest) > 0 {
		switch rest[0] {
		case '.':
			end := strings.IndexAny(rest[1:], ".[: ")
			if end < 0 {
				return nil
			}
			path, rest = append(path, rest[1:1+end]), rest[1+end:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil
			}
			seg := rest[1:end]
			if unquoted, err := strconv.Unquote(seg); err == nil {
				seg = unquoted
			}
			path, rest = append(path, seg), rest[end+1:]
		default:
			return path // the path ends at ": "
		}
	}
	return path
}
