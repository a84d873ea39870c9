package rules

import (
	"fmt"
	"strings"
)

// A StackStorm criterion's pattern may be a template, `{{ st2kv.system.expected }}`, rendered
// against the event's Env each time the criterion is tested; a missing key renders as nil and
// the criterion does not match. Only top-level criteria take templated patterns.

// patternTemplate returns the pattern when it is a string holding a template.
func patternTemplate(value any) (string, bool) {
	s, ok := value.(string)
	return s, ok && strings.Contains(s, "{{")
}

// checkPatternTemplate compiles every template of a pattern.
func checkPatternTemplate(s string) error {
	segs, _, err := scan(s)
	if err != nil {
		return err
	}
	for _, seg := range segs {
		if seg.template {
			if _, err := compile(seg.src, false); err != nil {
				return fmt.Errorf("template %s: %w", quote(seg.text), exprError(err, templateStart))
			}
		}
	}
	return nil
}

// renderPattern renders a templated pattern leniently: a missing key reads as nil. A pattern
// that is one whole template keeps the value's type.
func renderPattern(s string, env Env) (any, error) {
	segs, whole, err := scan(s)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, seg := range segs {
		if !seg.template {
			b.WriteString(seg.text)
			continue
		}
		p, err := compile(seg.src, false)
		if err != nil {
			return nil, err
		}
		v, err := run(p, env, newBudget())
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", quote(seg.text), exprError(err, templateStart))
		}
		if whole {
			return jsonShape(v)
		}
		if v == nil {
			return nil, nil
		}
		text, err := interpolate(v)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", quote(seg.text), err)
		}
		b.WriteString(text)
	}
	return b.String(), nil
}

// resolvePatterns returns conds with every templated pattern rendered against env and its test
// compiled. missing names the first criterion whose pattern rendered nothing (a missing key):
// the criteria then do not match.
func resolvePatterns(conds []condition, env Env) (out []condition, missing string, err error) {
	out = make([]condition, len(conds))
	copy(out, conds)
	for i := range out {
		c := &out[i]
		if c.tmpl == "" {
			continue
		}
		v, err := renderPattern(c.tmpl, env)
		if err != nil {
			return nil, "", fmt.Errorf("criteria[%q].pattern: %w", c.field, err)
		}
		if v == nil {
			return nil, fmt.Sprintf("%s: %s %s: the pattern reads nothing (a missing key)", c.field, c.opName, quote(c.tmpl)), nil
		}
		c.value = v
		if c.test, err = c.op.compile(v); err != nil {
			return nil, "", fmt.Errorf("criteria[%q].pattern %s rendered %s: %w", c.field, quote(c.tmpl), brief(v), err)
		}
	}
	return out, "", nil
}
