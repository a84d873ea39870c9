package rules

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
)

// StackStorm's Jinja filters that templates and expressions accept, besides expr's own upper and
// lower and decrypt_kv (see kv.go). Jinja writes them after a pipe, with or without
// parentheses: `{{ host | regex_replace('[A-z]+://', ”) }}`, `{{ name | upper }}`. expr's pipe
// `x | f(a)` is already the call f(x, a); pipeFilters adds the parentheses Jinja leaves out.
const (
	fnRegexReplace = "regex_replace"
	fnDefault      = "default"
	fnToJSONString = "to_json_string"
	fnJSONEscape   = "json_escape"
)

// jinjaFilters are the names pipeFilters completes with "()" when written bare after a pipe.
var jinjaFilters = []string{FnDecryptKV, fnRegexReplace, fnDefault, fnToJSONString, fnJSONEscape, "upper", "lower"}

// maxFilterOutput bounds what regex_replace may build, so a template cannot grow a payload
// field without limit.
const maxFilterOutput = 1 << 20

// filterOptions install the filter functions.
func filterOptions() []expr.Option {
	return []expr.Option{
		expr.Function(fnRegexReplace, regexReplace, new(func(string, string, string) string)),
		expr.Function(fnDefault, defaultValue),
		expr.Function(fnToJSONString, toJSONString),
		expr.Function(fnJSONEscape, jsonEscape, new(func(string) string)),
	}
}

// pythonGroup is a Python backreference in a replacement (\1), written ${1} for Go.
var pythonGroup = regexp.MustCompile(`\\(\d+)`)

// regexReplace is Jinja's regex_replace(value, pattern, replacement): every match replaced, \1
// in replacement the first group, as Python's re.sub.
func regexReplace(params ...any) (any, error) {
	s, pattern, repl := params[0].(string), params[1].(string), params[2].(string)
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: bad pattern %q: %v", fnRegexReplace, pattern, err)
	}
	repl = pythonGroup.ReplaceAllString(strings.ReplaceAll(repl, "$", "$$"), "$${$1}")
	out := re.ReplaceAllString(s, repl)
	if len(out) > maxFilterOutput {
		return nil, fmt.Errorf("%s: the result would be %d bytes; at most %d", fnRegexReplace, len(out), maxFilterOutput)
	}
	return out, nil
}

// defaultValue is Jinja's default(value, fallback): fallback when value is missing or null
// ("" when no fallback is given). Member access inside value reads a missing key as null, as
// on the left of ??.
func defaultValue(params ...any) (any, error) {
	if len(params) == 0 || len(params) > 2 {
		return nil, fmt.Errorf("%s takes a value and a fallback, got %d arguments", fnDefault, len(params))
	}
	if params[0] != nil {
		return params[0], nil
	}
	if len(params) == 2 {
		return params[1], nil
	}
	return "", nil
}

// toJSONString is StackStorm's to_json_string: value as JSON text.
func toJSONString(params ...any) (any, error) {
	if len(params) != 1 {
		return nil, fmt.Errorf("%s takes one value, got %d arguments", fnToJSONString, len(params))
	}
	b, err := json.Marshal(params[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fnToJSONString, err)
	}
	return string(b), nil
}

// jsonEscape is StackStorm's json_escape: the text escaped for use inside a JSON string,
// without the quotes.
func jsonEscape(params ...any) (any, error) {
	b, err := json.Marshal(params[0].(string))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fnJSONEscape, err)
	}
	return string(b[1 : len(b)-1]), nil
}

// pipeFilters rewrites `x | f` (a Jinja filter without arguments, which expr's pipe cannot
// parse) into `x | f()` for the filters in jinjaFilters. It changes nothing that compiled
// before: a bare name after a pipe is a syntax error in expr. Pipes inside string literals and
// the `||` operator are left alone.
func pipeFilters(src string) string {
	if !strings.Contains(src, "|") {
		return src
	}
	var b strings.Builder
	var quote byte
	for i := 0; i < len(src); i++ {
		c := src[i]
		b.WriteByte(c)
		switch {
		case quote != 0:
			if c == '\\' && i+1 < len(src) {
				i++
				b.WriteByte(src[i])
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '|' && (i+1 >= len(src) || src[i+1] != '|') && (i == 0 || src[i-1] != '|'):
			rest := src[i+1:]
			name := strings.TrimLeft(rest, " \t\n")
			skipped := len(rest) - len(name)
			end := 0
			for end < len(name) && (name[end] == '_' || isAlnum(name[end])) {
				end++
			}
			if end == 0 || !slices.Contains(jinjaFilters, name[:end]) {
				continue
			}
			b.WriteString(rest[:skipped+end])
			i += skipped + end
			if !strings.HasPrefix(strings.TrimLeft(name[end:], " \t\n"), "(") {
				b.WriteString("()")
			}
		}
	}
	return b.String()
}

// isAlnum reports whether c is an ASCII letter or digit.
func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
