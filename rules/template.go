package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/vm"

	"github.com/attune-run/attune"
)

// paramsRoot names the rendered parameters in error paths.
const paramsRoot = "action_params"

// Render walks params (maps, slices, strings) and renders every string holding "{{ … }}". The
// content of each {{ }} is an expr-lang/expr expression evaluated against env. A string that is
// exactly one template (only whitespace around it) keeps the JSON type of the value (number,
// bool, map, slice, nil; times and durations become their text, see jsonShape). Mixed strings
// interpolate: strings as they are, numbers and bools as JSON text, maps and slices as compact
// JSON, nil as "". Non-string values pass through unchanged; params is not modified, though
// values taken from env are shared, not copied. Reading a missing key or index is an error naming
// its path (`event.payload.user_email is missing`), never nil and never the template's text,
// unless the template supplies a default (`event.payload.user_email ?? "nobody"`, which also
// covers a missing parent) or reads on optionally (`event.payload.user?.email` is nil without a
// user). A key present with null reads as nil.
//
// Evaluating a rule's templates may produce at most ExpressionBudget bytes, and the rendered
// parameters may take at most MaxRenderedBytes as JSON; both are checked before the bytes are
// allocated.
//
// An error names the parameter path (`action_params.message`, `action_params.items[0].name`)
// and the template; a template that does not compile also wraps attune.ErrInvalid.
func Render(params map[string]any, env Env) (map[string]any, error) {
	if params == nil {
		return nil, nil
	}
	b := newBudget()
	out, err := walk(paramsRoot, params, func(path, s string) (any, error) {
		return renderString(path, s, env, b)
	})
	if err != nil {
		return nil, err
	}
	if n := jsonSize(out, false, MaxRenderedBytes); n > MaxRenderedBytes {
		return nil, fmt.Errorf("%s: the rendered parameters are larger than the %s limit; pass a smaller part of the event", paramsRoot, mib(MaxRenderedBytes))
	}
	return out.(map[string]any), nil
}

// CheckTemplates compiles, without evaluating, every template in params and returns an error
// naming the path of the first bad one (in sorted key order). Call it when a rule is registered;
// the error wraps attune.ErrInvalid.
func CheckTemplates(params map[string]any) error {
	_, err := walk(paramsRoot, params, func(path, s string) (any, error) {
		segs, _, err := scanTemplates(path, s)
		if err != nil {
			return nil, err
		}
		for _, seg := range segs {
			if seg.template {
				if _, err := compileTemplate(path, seg); err != nil {
					return nil, err
				}
			}
		}
		return s, nil
	})
	return err
}

// templateError says which parameter and which template failed.
type templateError struct {
	path     string
	template string // the failing "{{ … }}", or the whole string when it does not scan
	err      error
	invalid  bool // the template does not compile: bad user input
}

func (e *templateError) Error() string {
	return fmt.Sprintf("%s: template %s: %v", e.path, quote(e.template), e.err)
}

// Unwrap returns the cause and, for a template that does not compile, attune.ErrInvalid.
func (e *templateError) Unwrap() []error {
	if e.invalid {
		return []error{e.err, attune.ErrInvalid}
	}
	return []error{e.err}
}

// renderString renders the templates in s, charging their evaluation to b.
func renderString(path, s string, env Env, b *budget) (any, error) {
	segs, whole, err := scanTemplates(path, s)
	if err != nil || segs == nil {
		return s, err
	}
	return renderSegments(path, segs, whole, func(seg segment) (any, error) {
		return evalTemplate(path, seg, env, b)
	})
}

// renderSegments renders scanned segments with eval: when the string is one template (whole),
// its value with its JSON type; otherwise the text with each template's value interpolated,
// up to MaxRenderedBytes.
func renderSegments(path string, segs []segment, whole bool, eval func(segment) (any, error)) (any, error) {
	var out strings.Builder
	for _, seg := range segs {
		if !seg.template {
			out.WriteString(seg.text)
			continue
		}
		v, err := eval(seg)
		if err != nil {
			return nil, err
		}
		if err := checkRendered(path, seg, v); err != nil {
			return nil, err
		}
		if whole {
			if v, err = jsonShape(v); err != nil {
				return nil, &templateError{path: path, template: seg.text, err: err}
			}
			return v, nil
		}
		text, err := interpolate(v)
		if err != nil {
			return nil, &templateError{path: path, template: seg.text, err: fmt.Errorf("render %T as text: %w", v, err)}
		}
		if out.Len()+len(text) > MaxRenderedBytes {
			return nil, &templateError{path: path, template: seg.text, err: errTooLarge}
		}
		out.WriteString(text)
	}
	return out.String(), nil
}

// errTooLarge says a rendered value exceeds MaxRenderedBytes.
var errTooLarge = fmt.Errorf("the rendered value is larger than the %s limit of rendered parameters; pass a smaller part of the event", mib(MaxRenderedBytes))

// checkRendered rejects a template's value whose JSON would exceed MaxRenderedBytes, before it
// is serialised.
func checkRendered(path string, seg segment, v any) error {
	if jsonSize(v, false, MaxRenderedBytes) > MaxRenderedBytes {
		return &templateError{path: path, template: seg.text, err: errTooLarge}
	}
	return nil
}

// scanTemplates splits s into segments (see scan), or returns nil when s holds no template.
func scanTemplates(path, s string) (segs []segment, whole bool, err error) {
	if !strings.Contains(s, "{{") {
		return nil, false, nil
	}
	segs, whole, err = scan(s)
	if err != nil {
		return nil, false, &templateError{path: path, template: s, err: err, invalid: true}
	}
	return segs, whole, nil
}

// compileTemplate compiles one template segment.
func compileTemplate(path string, seg segment) (*vm.Program, error) {
	p, err := compile(seg.src, true)
	if err != nil {
		return nil, &templateError{path: path, template: seg.text, err: exprError(err, templateStart), invalid: true}
	}
	return p, nil
}

// templateStart is where a template's expression starts in its "{{ … }}" text.
var templateStart = position{line: 1, column: 3}

// evalTemplate compiles (or fetches from the cache) and evaluates one template segment,
// charging b.
func evalTemplate(path string, seg segment, env Env, b *budget) (any, error) {
	p, err := compileTemplate(path, seg)
	if err != nil {
		return nil, err
	}
	v, err := run(p, env, b)
	if err != nil {
		return nil, &templateError{path: path, template: seg.text, err: exprError(err, templateStart)}
	}
	return v, nil
}

// walk copies v, replacing every string with what fn returns for it; path names v in errors.
// Map keys are visited in sorted order so the first error is always the same one.
func walk(path string, v any, fn func(path, s string) (any, error)) (any, error) {
	switch v := v.(type) {
	case string:
		return fn(path, v)
	case map[string]any:
		out := make(map[string]any, len(v))
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			r, err := walk(childPath(path, k), v[k], fn)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			r, err := walk(path+"["+strconv.Itoa(i)+"]", e, fn)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// childPath appends key to path: `.key` for plain keys, `["odd key"]` otherwise.
func childPath(path, key string) string {
	plain := key != ""
	for _, r := range key {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			plain = false
			break
		}
	}
	if plain {
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}
