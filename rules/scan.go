package rules

import (
	"fmt"
	"strings"
)

// segment is a piece of a string holding templates: literal text, or one "{{ … }}".
type segment struct {
	text     string // the literal text, or the whole template including its braces
	src      string // for a template: the expression between the braces, text[2:len(text)-2]
	template bool
}

// scan splits s into literal and template segments. whole reports that s is exactly one template
// with only whitespace around it. A "}}" inside a quoted string or closing a nested map literal
// does not end a template.
func scan(s string) (segs []segment, whole bool, err error) {
	rest := s
	for rest != "" {
		open := strings.Index(rest, "{{")
		if open < 0 {
			segs = append(segs, segment{text: rest})
			break
		}
		if open > 0 {
			segs = append(segs, segment{text: rest[:open]})
		}
		end, err := templateEnd(rest[open+2:])
		if err != nil {
			return nil, false, fmt.Errorf("column %d: %w", positionAt(s, len(s)-len(rest)+open).column, err)
		}
		tmpl := rest[open : open+2+end+2]
		segs = append(segs, segment{text: tmpl, src: tmpl[2 : len(tmpl)-2], template: true})
		rest = rest[open+len(tmpl):]
	}
	whole = countTemplates(segs) == 1 && strings.TrimSpace(literalText(segs)) == ""
	return segs, whole, nil
}

// templateEnd returns the offset in s (the text after "{{") of the closing "}}", skipping quoted
// strings and balanced braces.
func templateEnd(s string) (int, error) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '"', '`':
			j, ok := skipQuoted(s, i)
			if !ok {
				return 0, fmt.Errorf("unterminated %c string in template", c)
			}
			i = j
		case '{':
			depth++
		case '}':
			if depth > 0 {
				depth--
				continue
			}
			if i+1 < len(s) && s[i+1] == '}' {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf(`"{{" without a closing "}}"`)
}

// skipQuoted returns the index of the quote closing the string that opens at s[i].
func skipQuoted(s string, i int) (int, bool) {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if q != '`' {
				j++
			}
		case q:
			return j, true
		}
	}
	return 0, false
}

func countTemplates(segs []segment) int {
	n := 0
	for _, seg := range segs {
		if seg.template {
			n++
		}
	}
	return n
}

func literalText(segs []segment) string {
	var b strings.Builder
	for _, seg := range segs {
		if !seg.template {
			b.WriteString(seg.text)
		}
	}
	return b.String()
}
