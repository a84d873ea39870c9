package workflows

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// The short forms Orquesta accepts in strings: inline action parameters
// (`action: core.echo message="hi there" n=3 who=<% ctx().name %>`) and a publish string
// (`publish: greeting=<% result().stdout %> n=1`).

// kvPair is one k=v of a short form; offsets are into the whole string.
type kvPair struct {
	key    string
	keyOff int
	val    string // unquoted
	valOff int    // where val's text starts (after an opening quote)
	quoted bool
}

// inlineParams splits s[from:] into k=v pairs. A value is quoted ("v 2", 'v 2', with \ escaping
// the quote), or runs to the next space, expressions ({{ }}, <% %>) being taken whole with their
// spaces. A problem's Line is 0 and its Col the byte offset into s.
func inlineParams(s string, from int) ([]kvPair, *Problem) {
	var out []kvPair
	bad := func(off int, format string, args ...any) *Problem {
		return &Problem{Col: off, Msg: fmt.Sprintf(format, args...)}
	}
	i := from
	for {
		for i < len(s) && unicode.IsSpace(rune(s[i])) {
			i++
		}
		if i >= len(s) {
			return out, nil
		}
		kv := kvPair{keyOff: i}
		for i < len(s) && (s[i] == '_' || isAlnum(s[i])) {
			i++
		}
		kv.key = s[kv.keyOff:i]
		if kv.key == "" || i >= len(s) || s[i] != '=' {
			return nil, bad(kv.keyOff, "expected name=value here (parameters are written k=v k2=\"v 2\"), found %q", clip(s[kv.keyOff:]))
		}
		i++
		if i < len(s) && (s[i] == '"' || s[i] == '\'') {
			q := s[i]
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != q; j++ {
				if s[j] == '\\' && j+1 < len(s) && (s[j+1] == q || s[j+1] == '\\') {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, bad(i, "%s=%c…: the quoted value is not closed", kv.key, q)
			}
			kv.val, kv.valOff, kv.quoted = b.String(), i+1, true
			i = j + 1
			out = append(out, kv)
			continue
		}
		kv.valOff = i
		for i < len(s) && !unicode.IsSpace(rune(s[i])) {
			yaql, jinja := strings.HasPrefix(s[i:], yaqlOpen), strings.HasPrefix(s[i:], jinjaOpen)
			if yaql || jinja {
				closeTok := jinjaClose
				if yaql {
					closeTok = yaqlClose
				}
				end := exprEnd(s, i+2, closeTok)
				if end < 0 {
					return nil, bad(i, "%q without a closing %q", s[i:i+2], closeTok)
				}
				i = end + 2
				continue
			}
			i++
		}
		kv.val = s[kv.valOff:i]
		out = append(out, kv)
	}
}

// inlineValue compiles the value of one k=v of the string in n. An unquoted value without
// expressions that reads as a JSON number, boolean or null is that value; anything else is a
// string.
func (p *parser) inlineValue(n node, kv kvPair) (*Value, *Problem) {
	at := func(off int) (int, int) { return n.at(kv.valOff + off) }
	segs, prob := scanString(kv.val, at)
	if prob != nil {
		return nil, prob
	}
	if segs != nil {
		return &Value{segs: segs}, nil
	}
	if !kv.quoted {
		var v any
		if err := json.Unmarshal([]byte(kv.val), &v); err == nil {
			switch v.(type) {
			case float64, bool, nil:
				return &Value{lit: v}, nil
			}
		}
	}
	return &Value{lit: kv.val}, nil
}

// isAlnum reports whether c is an ASCII letter or digit.
func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
