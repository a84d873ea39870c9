package rules

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// wildcard compiles matchwildcard: a shell glob matched against the whole string, with Python's
// fnmatch rules (StackStorm's implementation): `*` matches any run of characters including `/`
// and newlines, `?` one character, `[abc]`, `[a-z]` and `[!abc]` one of (or none of) a set, and
// everything else itself, case-sensitively. There is no backslash escape; `[*]` matches a star.
func wildcard(want any) (test, error) {
	w, ok := want.(string)
	if !ok {
		return nil, fmt.Errorf("must be a wildcard pattern string such as \"web-*\"; got %s", brief(want))
	}
	re, err := regexp.Compile(globRegexp(w))
	if err != nil {
		return nil, fmt.Errorf("invalid wildcard pattern %q: %w", w, err)
	}
	return func(have any, _ time.Time) bool {
		h, ok := have.(string)
		return ok && re.MatchString(h)
	}, nil
}

// globRegexp translates a glob to an anchored regular expression, as Python's fnmatch.translate.
func globRegexp(pat string) string {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	rs := []rune(pat)
	for i := 0; i < len(rs); {
		c := rs[i]
		i++
		switch c {
		case '*':
			b.WriteString(".*")
			for i < len(rs) && rs[i] == '*' {
				i++
			}
		case '?':
			b.WriteString(".")
		case '[':
			j := i
			if j < len(rs) && rs[j] == '!' {
				j++
			}
			if j < len(rs) && rs[j] == ']' {
				j++
			}
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			if j >= len(rs) {
				b.WriteString(`\[`) // no closing bracket: a literal "["
				continue
			}
			b.WriteString(globClass(rs[i:j]))
			i = j + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`)$`)
	return b.String()
}

// globClass translates the inside of a glob's [...]: a leading "!" negates, "-" makes ranges,
// every other character is itself.
func globClass(set []rune) string {
	switch {
	case len(set) == 0:
		return `[^\x00-\x{10FFFF}]` // matches nothing, as Python's (?!)
	case len(set) == 1 && set[0] == '!':
		return "."
	}
	var b strings.Builder
	b.WriteString("[")
	if set[0] == '!' {
		b.WriteString("^")
		set = set[1:]
	}
	for _, r := range set {
		if r == '-' {
			b.WriteRune(r)
			continue
		}
		b.WriteString(regexp.QuoteMeta(string(r)))
	}
	b.WriteString("]")
	return b.String()
}
